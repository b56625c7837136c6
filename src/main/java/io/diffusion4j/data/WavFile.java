package io.diffusion4j.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The layout of one RIFF WAVE file: its sample format and where its samples lie, so that windows
 * can be read on demand. Handles integer PCM of 8 (unsigned), 16, 24 and 32 bits and 32-bit
 * float, plain or WAVE_FORMAT_EXTENSIBLE; skips chunks other than "fmt " and "data" (LIST, fact,
 * ...) with their odd-size padding. A data chunk longer than the file (a truncated or streamed
 * recording) is read as far as the file goes.
 */
record WavFile(Path path, boolean floating, int channels, int sampleRate, int bytesPerSample,
    long dataOffset, long frames) {

  private static final int PCM = 1;
  private static final int IEEE_FLOAT = 3;
  private static final int EXTENSIBLE = 0xfffe;

  static WavFile parse(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 12) {
        throw bad(path, "too short for a WAV file (" + size + " bytes)");
      }
      ByteBuffer riff = read(path, ch, 0, 12);
      String magic = ascii(riff, 0);
      if (!magic.equals("RIFF") || !ascii(riff, 8).equals("WAVE")) {
        throw bad(path, magic.equals("RF64") || magic.equals("RIFX")
            ? magic + " files are not supported, only RIFF WAVE"
            : "not a RIFF WAVE file");
      }
      ByteBuffer fmt = null;
      long dataOffset = -1;
      long dataSize = 0;
      for (long pos = 12; pos + 8 <= size; ) {
        ByteBuffer header = read(path, ch, pos, 8);
        String id = ascii(header, 0);
        long length = header.getInt(4) & 0xffff_ffffL;
        long body = pos + 8;
        if (id.equals("fmt ")) {
          fmt = read(path, ch, body, (int) Math.min(length, 40));
        } else if (id.equals("data") && dataOffset < 0) {
          dataOffset = body;
          dataSize = Math.min(length, size - body);
        }
        pos = body + length + (length & 1);
      }
      if (fmt == null) {
        throw bad(path, "no fmt chunk");
      }
      if (dataOffset < 0) {
        throw bad(path, "no data chunk");
      }
      return of(path, fmt, dataOffset, dataSize);
    }
  }

  private static WavFile of(Path path, ByteBuffer fmt, long dataOffset, long dataSize)
      throws IOException {
    if (fmt.limit() < 16) {
      throw bad(path, "fmt chunk too short (" + fmt.limit() + " bytes)");
    }
    int tag = fmt.getShort(0) & 0xffff;
    int channels = fmt.getShort(2) & 0xffff;
    int rate = fmt.getInt(4);
    int blockAlign = fmt.getShort(12) & 0xffff;
    int bits = fmt.getShort(14) & 0xffff;
    if (tag == EXTENSIBLE && fmt.limit() >= 26) {
      tag = fmt.getShort(24) & 0xffff; // the sub-format GUID starts with the format tag
    }
    boolean supported = tag == PCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32)
        || tag == IEEE_FLOAT && bits == 32;
    if (!supported) {
      throw bad(path, "unsupported encoding: format tag " + tag + ", " + bits
          + " bits (supported: integer PCM of 8, 16, 24, 32 bits and 32-bit float)");
    }
    if (channels < 1 || rate < 1 || blockAlign != channels * (bits / 8)) {
      throw bad(path, "inconsistent fmt chunk: " + channels + " channels, " + rate + " Hz, "
          + bits + " bits, block align " + blockAlign);
    }
    return new WavFile(path, tag == IEEE_FLOAT, channels, rate, bits / 8, dataOffset,
        dataSize / blockAlign);
  }

  /**
   * Writes frames {@code first .. first + count - 1}, [count, channels], into {@code dst} from
   * {@code offset} on, mapping samples from [-1, 1] to [0, 1] as (x + 1) / 2. Float samples are
   * clipped to [-1, 1] first.
   */
  void read(long first, int count, float[] dst, int offset) throws IOException {
    int frameBytes = channels * bytesPerSample;
    ByteBuffer buf;
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      buf = read(path, ch, dataOffset + first * frameBytes, count * frameBytes);
    }
    int n = count * channels;
    for (int i = 0; i < n; i++) {
      float x = switch (bytesPerSample) {
        case 1 -> ((buf.get() & 0xff) - 128) / 128f;
        case 2 -> buf.getShort() / 32768f;
        case 3 -> ((buf.get() & 0xff) | (buf.get() & 0xff) << 8 | buf.get() << 16) / 8388608f;
        default -> floating ? Math.max(-1f, Math.min(1f, buf.getFloat())) : buf.getInt() / 2147483648f;
      };
      dst[offset + i] = (x + 1) / 2;
    }
  }

  /** {@code length} bytes from {@code position}, little-endian, ready to read. */
  private static ByteBuffer read(Path path, FileChannel ch, long position, int length)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (buf.hasRemaining()) {
      if (ch.read(buf, position + buf.position()) < 0) {
        throw bad(path, "unexpected end of file at byte " + (position + buf.position()));
      }
    }
    return buf.flip();
  }

  private static String ascii(ByteBuffer buf, int at) {
    byte[] four = new byte[4];
    buf.get(at, four);
    return new String(four, StandardCharsets.ISO_8859_1);
  }

  private static IOException bad(Path path, String message) {
    return new IOException(path + ": " + message);
  }
}
