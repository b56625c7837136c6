package io.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxDatasetTest {
  @TempDir Path dir;

  /** An idx file of unsigned bytes with the given dimensions; data is i % 256 for byte i. */
  private static byte[] idx(int... dims) {
    int n = Arrays.stream(dims).reduce(1, (a, b) -> a * b);
    ByteBuffer buf = ByteBuffer.allocate(4 + 4 * dims.length + n);
    buf.put(new byte[] {0, 0, 8, (byte) dims.length});
    for (int d : dims) {
      buf.putInt(d);
    }
    for (int i = 0; i < n; i++) {
      buf.put((byte) (i * 37));
    }
    return buf.array();
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  @Test
  void plainAndGzippedImagesWithLabels() throws IOException {
    byte[] images = idx(3, 2, 4);
    Path plain = Files.write(dir.resolve("images.gz"), images); // the name must not matter
    Path packed = Files.write(dir.resolve("images-idx3-ubyte"), gzip(images));
    Path labels = Files.write(dir.resolve("labels.gz"), gzip(idx(3)));
    for (Path file : new Path[] {plain, packed}) {
      IdxDataset data = IdxDataset.open(file, labels);
      assertEquals(3, data.size());
      assertArrayEquals(new long[] {2, 4, 1}, data.exampleShape());
      float[] out = new float[9];
      data.read(2, out, 1);
      for (int i = 0; i < 8; i++) {
        assertEquals(((16 + i) * 37 & 0xff) / 255f, out[1 + i], 0, "pixel " + i);
      }
      assertEquals(0, out[0]);
      assertArrayEquals(new int[] {0, 37, 74}, data.labels());
    }
    assertNull(IdxDataset.open(plain, null).labels());
  }

  @Test
  void clearErrors() throws IOException {
    Path images = Files.write(dir.resolve("images"), idx(3, 2, 2));
    Path fourLabels = Files.write(dir.resolve("labels"), idx(4));
    IOException count = assertThrows(IOException.class, () -> IdxDataset.open(images, fourLabels));
    assertTrue(count.getMessage().contains("has 4 labels but " + images + " has 3 images"),
        count.getMessage());

    IOException magic = assertThrows(IOException.class, () -> IdxDataset.open(fourLabels, null));
    assertTrue(magic.getMessage().startsWith(fourLabels + ": not an idx3"), magic.getMessage());

    byte[] whole = idx(3, 2, 2);
    Path cut = Files.write(dir.resolve("cut"), Arrays.copyOf(whole, whole.length - 1));
    IOException truncated = assertThrows(IOException.class, () -> IdxDataset.open(cut, null));
    assertTrue(truncated.getMessage().contains(cut + ": truncated"), truncated.getMessage());

    byte[] zipped = gzip(whole);
    Path badZip = Files.write(dir.resolve("bad.gz"), Arrays.copyOf(zipped, zipped.length - 10));
    IOException gz = assertThrows(IOException.class, () -> IdxDataset.open(badZip, null));
    assertTrue(gz.getMessage().contains(badZip + ": corrupt gzip"), gz.getMessage());

    IOException missing = assertThrows(IOException.class, () -> IdxDataset.open(dir.resolve("x"), null));
    assertTrue(missing.getMessage().endsWith("x does not exist"), missing.getMessage());
  }
}
