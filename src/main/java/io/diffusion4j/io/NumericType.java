package io.diffusion4j.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * The element types the binary readers understand, with their decoding to float (or long), so
 * that safetensors and npy share one chunked reader. Names follow safetensors' dtype names.
 */
enum NumericType {
  F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U32(4), U16(2), U8(1), BOOL(1);

  private static final int CHUNK_BYTES = 1 << 16;

  final int size;

  NumericType(int size) {
    this.size = size;
  }

  boolean isInteger() {
    return this != F64 && this != F32 && this != F16 && this != BF16;
  }

  /** Reads {@code count} values at {@code position}, chunk by chunk, converting to float. */
  float[] readFloats(Path file, FileChannel ch, long position, int count, ByteOrder order)
      throws IOException {
    float[] out = new float[count];
    readChunks(file, ch, position, count, order, (buf, first, n) -> {
      if (this == F32) {
        buf.asFloatBuffer().get(out, first, n);
      } else {
        for (int k = 0; k < n; k++) {
          out[first + k] = floatAt(buf, k * size);
        }
      }
    });
    return out;
  }

  /** Reads {@code count} F64 values at {@code position} exactly; only for F64. */
  double[] readDoubles(Path file, FileChannel ch, long position, int count, ByteOrder order)
      throws IOException {
    if (this != F64) {
      throw new IllegalStateException(this + " is not F64");
    }
    double[] out = new double[count];
    readChunks(file, ch, position, count, order, (buf, first, n) -> buf.asDoubleBuffer().get(out, first, n));
    return out;
  }

  /** Reads {@code count} integer values at {@code position}; only for {@link #isInteger()} types. */
  long[] readLongs(Path file, FileChannel ch, long position, int count, ByteOrder order)
      throws IOException {
    long[] out = new long[count];
    readChunks(file, ch, position, count, order, (buf, first, n) -> {
      for (int k = 0; k < n; k++) {
        out[first + k] = longAt(buf, k * size);
      }
    });
    return out;
  }

  /** The number of elements of a shape, or Long.MAX_VALUE when that overflows a long. */
  static long elementCount(long[] shape) {
    long count = 1;
    try {
      for (long d : shape) {
        count = Math.multiplyExact(count, d);
      }
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
    return count;
  }

  /** Writes {@code data} as little-endian float32, through a small buffer. */
  static void writeF32(OutputStream out, float[] data) throws IOException {
    writeChunks(out, data.length, 4, (buf, first, n) -> buf.asFloatBuffer().put(data, first, n));
  }

  /** Writes {@code data} as little-endian float64, through a small buffer. */
  static void writeF64(OutputStream out, double[] data) throws IOException {
    writeChunks(out, data.length, 8, (buf, first, n) -> buf.asDoubleBuffer().put(data, first, n));
  }

  private static void writeChunks(OutputStream out, int count, int size, Chunk fill) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    int perChunk = CHUNK_BYTES / size;
    for (int first = 0; first < count; first += perChunk) {
      int n = Math.min(perChunk, count - first);
      buf.clear();
      fill.transfer(buf, first, n);
      out.write(buf.array(), 0, size * n);
    }
  }

  private float floatAt(ByteBuffer b, int at) {
    return switch (this) {
      case F64 -> (float) b.getDouble(at);
      case F32 -> b.getFloat(at);
      case F16 -> halfToFloat(b.getShort(at));
      case BF16 -> Float.intBitsToFloat((b.getShort(at) & 0xffff) << 16);
      default -> (float) longAt(b, at);
    };
  }

  private long longAt(ByteBuffer b, int at) {
    return switch (this) {
      case I64 -> b.getLong(at);
      case I32 -> b.getInt(at);
      case I16 -> b.getShort(at);
      case I8 -> b.get(at);
      case U32 -> b.getInt(at) & 0xffff_ffffL;
      case U16 -> b.getShort(at) & 0xffff;
      case U8 -> b.get(at) & 0xff;
      case BOOL -> b.get(at) != 0 ? 1 : 0;
      default -> throw new IllegalStateException(this + " is not an integer type");
    };
  }

  /** IEEE 754 binary16 to float, exactly (Java 17 has no Float.float16ToFloat). */
  static float halfToFloat(short h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f80_0000 | (mantissa << 13));
    }
    if (exp == 0) {
      float v = mantissa * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mantissa << 13));
  }

  /** Moves values first .. first + n - 1 between a buffer and an array, one way or the other. */
  private interface Chunk {
    void transfer(ByteBuffer buf, int first, int n);
  }

  private void readChunks(
      Path file, FileChannel ch, long position, int count, ByteOrder order, Chunk chunk)
      throws IOException {
    int perChunk = CHUNK_BYTES / size;
    ByteBuffer buf = ByteBuffer.allocate(Math.min(count, perChunk) * size).order(order);
    for (int first = 0; first < count; first += perChunk) {
      int n = Math.min(count - first, perChunk);
      buf.clear().limit(n * size);
      long at = position + (long) first * size;
      while (buf.hasRemaining()) {
        int read = ch.read(buf, at + buf.position());
        if (read < 0) {
          throw new EOFException(file + ": unexpected end of file at byte " + (at + buf.position()));
        }
      }
      buf.flip();
      chunk.transfer(buf, first, n);
    }
  }
}
