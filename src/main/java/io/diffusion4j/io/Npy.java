package io.diffusion4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * NumPy's .npy format (versions 1.0 to 3.0), the simplest way to exchange arrays with the Python
 * reference: datasets, labels, reference outputs for tests. Reads the common numeric dtypes in C
 * order as float; writes float32 the way {@code numpy.save} does.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int ALIGN = 64;

  private Npy() {}

  /** The array, converted to float32. */
  public static FloatArray read(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      Header h = readHeader(path, ch);
      if (h.count > Integer.MAX_VALUE - 8) {
        throw bad(path, "shape " + Arrays.toString(h.shape) + " has too many elements to read at once");
      }
      return new FloatArray(h.shape, h.type.readFloats(path, ch, h.dataStart, (int) h.count, h.order));
    }
  }

  /** The values of an integer or boolean array (e.g. class labels), flattened in C order. */
  public static long[] readLongs(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      Header h = readHeader(path, ch);
      if (!h.type.isInteger()) {
        throw bad(path, "dtype '" + h.descr + "' is not an integer type");
      }
      if (h.count > Integer.MAX_VALUE - 8) {
        throw bad(path, "shape " + Arrays.toString(h.shape) + " has too many elements to read at once");
      }
      return h.type.readLongs(path, ch, h.dataStart, (int) h.count, h.order);
    }
  }

  /**
   * An array read a range of rows (entries of its first axis) at a time, converted to float32, so
   * that arrays larger than memory can be used batch by batch.
   */
  public static final class Rows implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final Header header;
    private final long rowSize;

    private Rows(Path path, FileChannel channel, Header header) {
      this.path = path;
      this.channel = channel;
      this.header = header;
      this.rowSize = NumericType.elementCount(Arrays.copyOfRange(header.shape, 1, header.shape.length));
    }

    public static Rows open(Path path) throws IOException {
      FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
      try {
        Header h = readHeader(path, ch);
        if (h.shape.length == 0) {
          throw bad(path, "a scalar has no rows");
        }
        return new Rows(path, ch, h);
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    }

    public long[] shape() {
      return header.shape.clone();
    }

    /** Rows {@code first} .. {@code first + n - 1}. */
    public FloatArray read(long first, int n) throws IOException {
      if (first < 0 || n < 0 || first + n > header.shape[0]) {
        throw new IllegalArgumentException(path + ": rows " + first + ".." + (first + n - 1) + " outside [0, "
            + header.shape[0] + ")");
      }
      long[] shape = header.shape.clone();
      shape[0] = n;
      int count = Math.toIntExact(n * rowSize);
      return new FloatArray(shape, header.type.readFloats(path, channel,
          header.dataStart + first * rowSize * header.type.size, count, header.order));
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /** Takes the rows of an array being written, in order. */
  public interface RowSink {
    void write(FloatArray rows) throws IOException;
  }

  /** Writes {@code array} as '<f4' in C order (format 1.0 unless the header needs 2.0), atomically. */
  public static void write(Path path, FloatArray array) throws IOException {
    write(path, array.shape(), sink -> sink.write(array));
  }

  /**
   * Writes a '<f4' array of {@code shape} whose rows {@code rows} hands over in order, a batch at
   * a time: the header first, then each batch as it comes, to a temporary file renamed into place
   * once every row is there. Fails, leaving nothing, when the rows do not fill the shape exactly.
   */
  public static void write(Path path, long[] shape, IOConsumer<RowSink> rows) throws IOException {
    long[] rowShape = Arrays.copyOfRange(shape, Math.min(1, shape.length), shape.length);
    long expected = NumericType.elementCount(shape);
    AtomicFiles.write(path, out -> {
      out.write(header(shape));
      long[] written = {0};
      rows.accept(batch -> {
        long[] s = batch.shape();
        if (shape.length > 0 && (s.length != shape.length || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), rowShape))) {
          throw new IllegalArgumentException(path + ": rows of shape " + Arrays.toString(s) + " do not fit "
              + Arrays.toString(shape));
        }
        if (written[0] + batch.size() > expected) {
          throw new IllegalArgumentException(path + ": more rows than the shape " + Arrays.toString(shape) + " holds");
        }
        NumericType.writeF32(out, batch.data());
        written[0] += batch.size();
      });
      if (written[0] != expected) {
        throw new IllegalStateException(path + ": " + written[0] + " of " + expected + " values written");
      }
    });
  }

  /** The header numpy.save writes for a '<f4' array of {@code shape}. */
  private static byte[] header(long[] shape) {
    byte[] dict = ("{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple(shape) + ", }")
        .getBytes(StandardCharsets.ISO_8859_1);
    int major = 1;
    int prefix = MAGIC.length + 2 + 2;
    if (padded(prefix, dict.length) - prefix > 0xffff) {
      major = 2;
      prefix += 2;
    }
    int total = padded(prefix, dict.length);
    ByteBuffer header = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    header.put(MAGIC).put((byte) major).put((byte) 0);
    if (major == 1) {
      header.putShort((short) (total - prefix));
    } else {
      header.putInt(total - prefix);
    }
    header.put(dict);
    while (header.position() < total - 1) {
      header.put((byte) ' ');
    }
    header.put((byte) '\n');
    return header.array();
  }

  /** Total header size: prefix, dict and the final newline, rounded up for alignment. */
  private static int padded(int prefix, int dictLength) {
    return (prefix + dictLength + 1 + ALIGN - 1) / ALIGN * ALIGN;
  }

  /** Python's tuple repr: (), (5,), (3, 4). */
  private static String tuple(long[] shape) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(shape[i]);
    }
    return sb.append(shape.length == 1 ? ",)" : ")").toString();
  }

  private record Header(
      String descr, NumericType type, ByteOrder order, long[] shape, long count, long dataStart) {}

  private static Header readHeader(Path path, FileChannel ch) throws IOException {
    long size = ch.size();
    ByteBuffer start = ByteBuffer.allocate((int) Math.min(size, 12)).order(ByteOrder.LITTLE_ENDIAN);
    readFully(path, ch, start, 0);
    byte[] magic = Arrays.copyOf(start.array(), Math.min(start.capacity(), MAGIC.length));
    if (!Arrays.equals(magic, MAGIC)) {
      throw bad(path, "not a .npy file (bad magic, expected \\x93NUMPY)");
    }
    if (size < 10) {
      throw bad(path, "truncated header (" + size + " bytes)");
    }
    int major = start.get(6);
    if (major < 1 || major > 3) {
      throw bad(path, "unsupported .npy format version " + major + "." + start.get(7));
    }
    int prefix = major == 1 ? 10 : 12;
    if (size < prefix) {
      throw bad(path, "truncated header (" + size + " bytes)");
    }
    long headerLength = major == 1 ? start.getShort(8) & 0xffff : start.getInt(8) & 0xffff_ffffL;
    if (prefix + headerLength > size) {
      throw bad(path, "truncated header: " + headerLength + " bytes announced, "
          + (size - prefix) + " present");
    }
    ByteBuffer text = ByteBuffer.allocate((int) headerLength);
    readFully(path, ch, text, prefix);
    String dict = new String(text.array(),
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Map<?, ?> map;
    try {
      if (!(PythonLiteral.parse(dict) instanceof Map<?, ?> m)) {
        throw new IllegalArgumentException("not a dict");
      }
      map = m;
    } catch (IllegalArgumentException e) {
      throw bad(path, "malformed header " + dict.strip() + ": " + e.getMessage());
    }
    if (!(map.get("descr") instanceof String descr)) {
      throw bad(path, "unsupported dtype " + map.get("descr") + " (only simple numeric dtypes)");
    }
    if (!(map.get("fortran_order") instanceof Boolean fortran)) {
      throw bad(path, "header lacks fortran_order: " + dict.strip());
    }
    if (fortran) {
      throw bad(path, "fortran_order True is not supported: save a C-ordered array");
    }
    long[] shape = shape(path, map.get("shape"));
    long count = NumericType.elementCount(shape);
    NumericType type = type(path, descr);
    long dataStart = prefix + headerLength;
    long needed = count > Long.MAX_VALUE / type.size ? Long.MAX_VALUE : count * type.size;
    if (size - dataStart < needed) {
      throw bad(path, "truncated data: shape " + Arrays.toString(shape) + " of " + descr + " needs "
          + needed + " bytes, " + (size - dataStart) + " present");
    }
    ByteOrder order = descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN
        : descr.charAt(0) == '=' ? ByteOrder.nativeOrder() : ByteOrder.LITTLE_ENDIAN;
    return new Header(descr, type, order, shape, count, dataStart);
  }

  private static NumericType type(Path path, String descr) throws IOException {
    NumericType type = null;
    if (descr.length() == 3 && "<>|=".indexOf(descr.charAt(0)) >= 0) {
      type = switch (descr.substring(1)) {
        case "f2" -> NumericType.F16;
        case "f4" -> NumericType.F32;
        case "f8" -> NumericType.F64;
        case "i1" -> NumericType.I8;
        case "i2" -> NumericType.I16;
        case "i4" -> NumericType.I32;
        case "i8" -> NumericType.I64;
        case "u1" -> NumericType.U8;
        case "u2" -> NumericType.U16;
        case "u4" -> NumericType.U32;
        case "b1" -> NumericType.BOOL;
        default -> null;
      };
    }
    if (type == null) {
      throw bad(path, "unsupported dtype '" + descr
          + "' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 b1, either byte order)");
    }
    return type;
  }

  private static long[] shape(Path path, Object value) throws IOException {
    if (value instanceof List<?> list) {
      long[] shape = new long[list.size()];
      for (int i = 0; i < shape.length; i++) {
        if (!(list.get(i) instanceof Long d) || d < 0) {
          throw bad(path, "bad shape " + value);
        }
        shape[i] = d;
      }
      return shape;
    }
    throw bad(path, "header lacks a shape tuple: " + value);
  }

  private static void readFully(Path path, FileChannel ch, ByteBuffer buf, long position)
      throws IOException {
    while (buf.hasRemaining()) {
      if (ch.read(buf, position + buf.position()) < 0) {
        throw bad(path, "unexpected end of file");
      }
    }
  }

  private static IOException bad(Path path, String message) {
    return new IOException(path + ": " + message);
  }
}
