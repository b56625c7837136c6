package io.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
  @TempDir Path dir;

  @Test
  void roundTripIsExact() throws IOException {
    FloatArray a = new FloatArray(new long[] {2, 3},
        new float[] {Float.MAX_VALUE, -Float.MIN_VALUE, -0.0f, 1.5f, Float.NEGATIVE_INFINITY, 0.1f});
    Path file = dir.resolve("sub/a.npy");
    Npy.write(file, a);
    assertEquals(a, Npy.read(file));

    FloatArray vector = new FloatArray(new long[] {5}, new float[] {1, 2, 3, 4, 5});
    Npy.write(file, vector);
    assertEquals(vector, Npy.read(file));
  }

  @Test
  void writtenHeaderIsNumpys() throws IOException {
    Path file = dir.resolve("h.npy");
    Npy.write(file, FloatArray.zeros(3, 4));
    byte[] bytes = Files.readAllBytes(file);
    assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, Arrays.copyOf(bytes, 8));
    int headerLength = ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
    int total = 10 + headerLength;
    assertEquals(0, total % 64);
    assertEquals(total + 12 * 4, bytes.length);
    String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
    assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", header.strip());
    assertTrue(header.endsWith(" \n"));
  }

  @Test
  void scalarShape() throws IOException {
    Path file = dir.resolve("s.npy");
    FloatArray scalar = new FloatArray(new long[0], new float[] {42.25f});
    Npy.write(file, scalar);
    assertTrue(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains("'shape': (), }"));
    FloatArray back = Npy.read(file);
    assertEquals(0, back.rank());
    assertEquals(scalar, back);
  }

  @Test
  void readsFloat64() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    data.putDouble(0.1).putDouble(-2.5).putDouble(1e300).putDouble(3);
    Path file = write("d.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", data.array());
    FloatArray a = Npy.read(file);
    assertArrayEquals(new long[] {2, 2}, a.shape());
    assertArrayEquals(new float[] {0.1f, -2.5f, Float.POSITIVE_INFINITY, 3f}, a.data());
  }

  @Test
  void readsBytesAndIntegers() throws IOException {
    Path u1 = write("u.npy", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }",
        new byte[] {0, 1, 127, (byte) 128, (byte) 255});
    assertArrayEquals(new float[] {0, 1, 127, 128, 255}, Npy.read(u1).data());
    assertArrayEquals(new long[] {0, 1, 127, 128, 255}, Npy.readLongs(u1));

    ByteBuffer longs = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    longs.putLong(7).putLong(-1).putLong(1L << 40);
    // Version 2.0, double quotes and Python 2 longs, as older writers produce.
    Path i8 = write("i.npy", 2, "{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (3L,)}", longs.array());
    assertArrayEquals(new long[] {7, -1, 1L << 40}, Npy.readLongs(i8));
    assertArrayEquals(new float[] {7, -1, 0x1p40f}, Npy.read(i8).data());

    ByteBuffer big = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putFloat(1.25f).putFloat(-3f);
    Path f4 = write("b.npy", 3, "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }", big.array());
    assertArrayEquals(new float[] {1.25f, -3f}, Npy.read(f4).data());

    Path b1 = write("t.npy", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new byte[] {1, 0});
    assertArrayEquals(new long[] {1, 0}, Npy.readLongs(b1));
  }

  @Test
  void badFilesNameTheFile() throws IOException {
    byte[] four = new byte[16];
    assertFails(write("fortran.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four),
        "fortran_order");
    assertFails(write("cut.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", four),
        "truncated");
    assertFails(write("complex.npy", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", four),
        "<c8");
    assertFails(write("broken.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, }", four),
        "malformed");
    Path magic = dir.resolve("magic.npy");
    Files.write(magic, "PK\3\4 not numpy at all".getBytes(StandardCharsets.ISO_8859_1));
    assertFails(magic, "magic");
    Path floats = dir.resolve("floats.npy");
    Npy.write(floats, FloatArray.zeros(2));
    IOException e = assertThrows(IOException.class, () -> Npy.readLongs(floats));
    assertTrue(e.getMessage().contains("floats.npy") && e.getMessage().contains("<f4"), e.getMessage());
  }

  private static void assertFails(Path file, String expected) {
    IOException e = assertThrows(IOException.class, () -> Npy.read(file));
    assertTrue(e.getMessage().contains(file.getFileName().toString()), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  /** Assembles a .npy file as the format describes: magic, version, length, padded dict, data. */
  private Path write(String name, int major, String dict, byte[] data) throws IOException {
    int prefix = major == 1 ? 10 : 12;
    StringBuilder header = new StringBuilder(dict);
    while ((prefix + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    ByteBuffer length = ByteBuffer.allocate(prefix - 8).order(ByteOrder.LITTLE_ENDIAN);
    if (major == 1) {
      length.putShort((short) header.length());
    } else {
      length.putInt(header.length());
    }
    out.writeBytes(length.array());
    out.writeBytes(header.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(data);
    Path file = dir.resolve(name);
    Files.write(file, out.toByteArray());
    return file;
  }

  /** Rows written batch by batch read back equal, also a range at a time; a short or long stream leaves no file. */
  @Test
  void streamsRowsInAndOut(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("rows.npy");
    float[] values = new float[7 * 3 * 2];
    for (int i = 0; i < values.length; i++) {
      values[i] = i * 0.5f - 3;
    }
    FloatArray whole = new FloatArray(new long[] {7, 3, 2}, values);
    Npy.write(file, whole.shape(), sink -> {
      for (int first = 0; first < 7; first += 3) {
        int n = Math.min(3, 7 - first);
        sink.write(new FloatArray(new long[] {n, 3, 2}, java.util.Arrays.copyOfRange(values, first * 6, (first + n) * 6)));
      }
    });
    assertEquals(whole, Npy.read(file));
    try (Npy.Rows rows = Npy.Rows.open(file)) {
      assertArrayEquals(new long[] {7, 3, 2}, rows.shape());
      assertArrayEquals(java.util.Arrays.copyOfRange(values, 2 * 6, 5 * 6), rows.read(2, 3).data());
    }
    Path short_ = tmp.resolve("short.npy");
    assertThrows(IllegalStateException.class, () -> Npy.write(short_, whole.shape(),
        sink -> sink.write(new FloatArray(new long[] {1, 3, 2}, new float[6]))));
    assertThrows(IllegalArgumentException.class, () -> Npy.write(short_, whole.shape(),
        sink -> sink.write(new FloatArray(new long[] {8, 3, 2}, new float[48]))));
    try (var left = Files.list(tmp)) {
      assertEquals(java.util.List.of(file), left.toList(), "nothing half-written is left");
    }
  }
}
