package io.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyDatasetTest {
  @TempDir Path dir;

  private Path save(String name, long... shape) throws IOException {
    FloatArray a = FloatArray.zeros(shape);
    for (int i = 0; i < a.data().length; i++) {
      a.data()[i] = i / 100f;
    }
    Path file = dir.resolve(name);
    Npy.write(file, a);
    return file;
  }

  @Test
  void sequencesAndImages() throws IOException {
    NpyDataset seq = NpyDataset.open(save("seq.npy", 3, 4, 2), 2);
    assertEquals(3, seq.size());
    assertArrayEquals(new long[] {4, 2}, seq.exampleShape());
    float[] out = new float[8];
    seq.read(1, out, 0);
    assertEquals(0.08f, out[0]);
    assertEquals(0.15f, out[7]);
    assertNull(seq.labels());

    NpyDataset flat = NpyDataset.open(save("flat.npy", 2, 5), 2);
    assertArrayEquals(new long[] {5, 1}, flat.exampleShape());

    NpyDataset images = NpyDataset.open(save("img.npy", 2, 3, 3, 1), 3);
    assertArrayEquals(new long[] {3, 3, 1}, images.exampleShape());
    float[] image = new float[9];
    images.read(1, image, 0);
    assertEquals(0.09f, image[0]);
    assertEquals(0.17f, image[8]);
  }

  @Test
  void wrongRankNamesShapeAndExpectation() throws IOException {
    Path file = save("bad.npy", 2, 2, 2, 2);
    IOException e = assertThrows(IOException.class, () -> NpyDataset.open(file, 2));
    assertTrue(e.getMessage().contains("shape [2, 2, 2, 2]"), e.getMessage());
    assertTrue(e.getMessage().contains("expected [N, L, C] or [N, L]"), e.getMessage());
    assertThrows(IOException.class, () -> NpyDataset.open(save("one.npy", 4), 2));
    assertThrows(IOException.class, () -> NpyDataset.open(save("empty.npy", 0, 4, 1), 2));
    assertThrows(IllegalArgumentException.class, () -> NpyDataset.open(file, 4));
  }
}
