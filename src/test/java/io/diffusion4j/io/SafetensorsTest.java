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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
  @TempDir Path dir;

  private static FloatArray random(Random r, long... shape) {
    FloatArray a = FloatArray.zeros(shape);
    for (int i = 0; i < a.data().length; i++) {
      a.data()[i] = (float) r.nextGaussian() * 100;
    }
    return a;
  }

  @Test
  void float64TensorsKeepFullPrecision() throws IOException {
    Path file = dir.resolve("stats.safetensors");
    DoubleArray cov = new DoubleArray(new long[] {2, 2}, new double[] {1 + 1e-12, Math.PI, Math.PI, -1e-300});
    FloatArray features = new FloatArray(new long[] {1, 2}, new float[] {0.5f, -3f});
    Safetensors.write(file, Map.of("features", features), Map.of("covariance", cov), Map.of("k", "v"));
    assertEquals(Map.of("covariance", cov), Safetensors.readDoubles(file));
    Map<String, FloatArray> asFloat = Safetensors.read(file);
    assertEquals(features, asFloat.get("features"));
    assertArrayEquals(new float[] {1f, (float) Math.PI, (float) Math.PI, -0f}, asFloat.get("covariance").data());
    assertEquals(Map.of("k", "v"), Safetensors.readMetadata(file));
  }

  @Test
  void roundTripIsExactAndKeepsOrder() throws IOException {
    Random r = new Random(1);
    Map<String, FloatArray> in = new LinkedHashMap<>();
    in.put("zeta.weight", random(r, 2, 3, 4));
    in.put("scalar", new FloatArray(new long[0], new float[] {-0.0f}));
    in.put("empty", FloatArray.zeros(0, 5));
    in.put("alpha", new FloatArray(new long[] {7}, new float[] {Float.MAX_VALUE, -Float.MAX_VALUE,
        Float.MIN_VALUE, Float.MIN_NORMAL, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-30f}));
    in.put("vec", random(r, 3));
    Path file = dir.resolve("m.safetensors");
    Safetensors.write(file, in, Map.of("format", "pt"));

    Map<String, FloatArray> out = Safetensors.read(file);
    assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
    assertEquals(in, out);
    assertEquals(Map.of("format", "pt"), Safetensors.readMetadata(file));
  }

  @Test
  void layoutFollowsTheSpec() throws IOException {
    Path file = dir.resolve("a.safetensors");
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("b", "x<y");
    meta.put("a", "é");
    Safetensors.write(file, Map.of("w", new FloatArray(new long[] {2}, new float[] {1f, -2f})), meta);

    byte[] bytes = Files.readAllBytes(file);
    long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, n % 8);
    assertEquals(8 + n + 8, bytes.length);
    String json = "{\"__metadata__\":{\"b\":\"x<y\",\"a\":\"é\"},"
        + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    int jsonBytes = json.getBytes(StandardCharsets.UTF_8).length;
    assertEquals(json + " ".repeat((int) n - jsonBytes), new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
    assertTrue(n - jsonBytes < 8);
    ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) n, 8).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(1f, data.getFloat());
    assertEquals(-2f, data.getFloat());
    assertEquals(List.of("b", "a"), List.copyOf(Safetensors.readMetadata(file).keySet()));
  }

  @Test
  void noMetadataGivesEmptyMap() throws IOException {
    Path file = dir.resolve("n.safetensors");
    Safetensors.write(file, Map.of(), null);
    assertEquals(Map.of(), Safetensors.readMetadata(file));
    assertEquals(Map.of(), Safetensors.read(file));
    assertEquals(16, Files.size(file));
  }

  /** A file assembled byte by byte, F16 and BF16, header keys not in data order, no padding. */
  @Test
  void readsHalfAndBfloat16() throws IOException {
    String header = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[8,14]},"
        + "\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}";
    ByteBuffer data = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
    data.putShort((short) 0x3C00).putShort((short) 0xC100).putShort((short) 0x3555).putShort((short) 0x0001);
    data.putShort((short) 0x3F80).putShort((short) 0xC020).putShort((short) 0x3EAA);
    Path file = dir.resolve("half.safetensors");
    Files.write(file, assemble(header, data.array()));

    Map<String, FloatArray> out = Safetensors.read(file);
    assertEquals(List.of("h", "b"), List.copyOf(out.keySet()));
    assertArrayEquals(new long[] {2, 2}, out.get("h").shape());
    assertArrayEquals(new float[] {1f, -2.5f, 0.33325195f, 0x1p-24f}, out.get("h").data());
    assertArrayEquals(new float[] {1f, -2.5f, 0.33203125f}, out.get("b").data());
  }

  @Test
  void readsIntegerAndDoubleTypes() throws IOException {
    String header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
        + "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]},"
        + "\"u\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[16,18]},"
        + "\"t\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[18,19]},"
        + "\"j\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[19,23]}}";
    ByteBuffer data = ByteBuffer.allocate(23).order(ByteOrder.LITTLE_ENDIAN);
    data.putDouble(0.1).putLong(-3).put((byte) 200).put((byte) 7).put((byte) 1).putInt(65536);
    Path file = dir.resolve("ints.safetensors");
    Files.write(file, assemble(header, data.array()));

    Map<String, FloatArray> out = Safetensors.read(file);
    assertArrayEquals(new float[] {0.1f}, out.get("d").data());
    assertArrayEquals(new float[] {-3f}, out.get("i").data());
    assertArrayEquals(new float[] {200f, 7f}, out.get("u").data());
    assertArrayEquals(new float[] {1f}, out.get("t").data());
    assertArrayEquals(new float[] {65536f}, out.get("j").data());
  }

  @Test
  void corruptFilesNameTheFile() throws IOException {
    Path good = dir.resolve("good.safetensors");
    Safetensors.write(good, Map.of("w", FloatArray.zeros(4)), null);
    byte[] bytes = Files.readAllBytes(good);

    assertFails("short.safetensors", new byte[] {1, 2, 3}, "too short");
    byte[] truncated = Arrays.copyOf(bytes, 20);
    assertFails("truncated.safetensors", truncated, "header length");
    byte[] huge = bytes.clone();
    ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
    assertFails("huge.safetensors", huge, "header length");
    assertFails("cut-data.safetensors", Arrays.copyOf(bytes, bytes.length - 4), "'w'");

    String past = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,400]}}";
    assertFails("past.safetensors", assemble(past, new byte[16]), "outside the data area");
    String mismatch = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}";
    assertFails("mismatch.safetensors", assemble(mismatch, new byte[16]), "needs 12");
    String dtype = "{\"w\":{\"dtype\":\"C64\",\"shape\":[2],\"data_offsets\":[0,16]}}";
    assertFails("dtype.safetensors", assemble(dtype, new byte[16]), "C64");
    assertFails("json.safetensors", assemble("{\"w\":{\"dtype\":", new byte[16]), "malformed");
  }

  private void assertFails(String name, byte[] content, String expected) throws IOException {
    Path file = dir.resolve(name);
    Files.write(file, content);
    IOException e = assertThrows(IOException.class, () -> Safetensors.read(file));
    assertTrue(e.getMessage().contains(name), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  private static byte[] assemble(String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
    out.writeBytes(h);
    out.writeBytes(data);
    return out.toByteArray();
  }
}
