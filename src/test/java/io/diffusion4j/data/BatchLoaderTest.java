package io.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Statistical;
import io.diffusion4j.io.FloatArray;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchLoaderTest {
  private static final Duration PROMPTLY = Duration.ofSeconds(5);

  @TempDir Path dir;

  /**
   * n examples of shape [2, 3, 1] (or [6, 1] as sequences) whose value at (y, x) is
   * index * 100 + y * 10 + x, so that index and orientation can be read back. Labels: index % 3.
   */
  private static Dataset synthetic(int n, boolean image) {
    return new Dataset() {
      @Override
      public int size() {
        return n;
      }

      @Override
      public long[] exampleShape() {
        return image ? new long[] {2, 3, 1} : new long[] {6, 1};
      }

      @Override
      public void read(int index, float[] dst, int offset) {
        for (int y = 0; y < 2; y++) {
          for (int x = 0; x < 3; x++) {
            dst[offset + y * 3 + x] = index * 100 + y * 10 + x;
          }
        }
      }

      @Override
      public int[] labels() {
        int[] labels = new int[n];
        Arrays.setAll(labels, i -> i % 3);
        return labels;
      }

      @Override
      public String describe() {
        return "synthetic";
      }
    };
  }

  private static FloatArray[] take(BatchLoader loader, int count) throws IOException {
    FloatArray[] batches = new FloatArray[count];
    for (int i = 0; i < count; i++) {
      batches[i] = loader.next();
    }
    return batches;
  }

  @Test
  void sameSeedSameBatchesAndResumeMatches() throws IOException {
    Dataset data = synthetic(10, true);
    FloatArray[] first;
    try (BatchLoader a = new BatchLoader(data, 4, 7, true, 3, 2)) {
      a.start(0);
      first = take(a, 8);
      assertArrayEquals(new long[] {4, 2, 3, 1}, first[0].shape());
    }
    try (BatchLoader b = new BatchLoader(data, 4, 7, true, 1, 1)) {
      b.start(0);
      assertArrayEquals(first, take(b, 8));
    }
    try (BatchLoader resumed = new BatchLoader(data, 4, 7, true, 2, 4)) {
      resumed.start(5);
      assertArrayEquals(Arrays.copyOfRange(first, 5, 8), take(resumed, 3));
      assertEquals(first[6], resumed.batch(6));
    }
    try (BatchLoader other = new BatchLoader(data, 4, 8, true, 2, 4)) {
      other.start(0);
      assertNotEquals(Arrays.asList(first).subList(0, 3), Arrays.asList(take(other, 3)));
    }
  }

  @Test
  void everyExampleOncePerEpoch() throws IOException {
    int n = 12;
    try (BatchLoader loader = new BatchLoader(synthetic(n, true), 4, 1, false, 2, 3)) {
      loader.start(0);
      int[][] epochs = new int[3][n];
      for (int k = 0; k < 9; k++) {
        FloatArray batch = loader.next();
        int[] indices = loader.indices(k);
        for (int i = 0; i < 4; i++) {
          int index = (int) batch.data()[i * 6] / 100;
          assertEquals(indices[i], index);
          epochs[k / 3][k % 3 * 4 + i] = index;
        }
        int[] labels = loader.labels(k);
        for (int i = 0; i < 4; i++) {
          assertEquals(indices[i] % 3, labels[i]);
        }
      }
      for (int[] epoch : epochs) {
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
            Arrays.stream(epoch).sorted().toArray());
      }
      assertNotEquals(Arrays.toString(epochs[0]), Arrays.toString(epochs[1]));
      assertEquals(3, loader.numClasses());
    }
  }

  @Test
  void epochsStraddlingBatches() {
    // 10 examples, batches of 4: batch 2 holds the last two of epoch 0 and the first two of epoch 1.
    try (BatchLoader loader = new BatchLoader(synthetic(10, true), 4, 3, false, 1, 1)) {
      Set<Integer> epoch0 = new HashSet<>();
      for (int k = 0; k < 2; k++) {
        Arrays.stream(loader.indices(k)).forEach(epoch0::add);
      }
      int[] straddling = loader.indices(2);
      epoch0.add(straddling[0]);
      epoch0.add(straddling[1]);
      assertEquals(10, epoch0.size());
    }
  }

  @Test
  void flipsAreExactMirrorsAboutHalfTheTime() throws IOException {
    int flips = 0;
    int positions = 400;
    try (BatchLoader loader = new BatchLoader(synthetic(50, true), 8, 11, true, 2, 4)) {
      loader.start(0);
      for (int k = 0; k < positions / 8; k++) {
        float[] x = loader.next().data();
        for (int i = 0; i < 8; i++) {
          long g = k * 8L + i;
          boolean flipped = loader.flipped(g);
          flips += flipped ? 1 : 0;
          int index = (int) x[i * 6] / 100;
          for (int y = 0; y < 2; y++) {
            for (int c = 0; c < 3; c++) {
              int source = flipped ? 2 - c : c;
              assertEquals(index * 100 + y * 10 + source, x[i * 6 + y * 3 + c], "position " + g);
            }
          }
        }
      }
    }
    Statistical.assertRateWithin(flips, positions, 0.5, 0.5, "flipped examples");
  }

  @Test
  void sequencesAreNeverFlipped() throws IOException {
    try (BatchLoader loader = new BatchLoader(synthetic(20, false), 5, 2, true, 1, 1)) {
      float[] x = loader.batch(0).data();
      for (int i = 0; i < 5; i++) {
        assertEquals(x[i * 6] + 1, x[i * 6 + 1]); // ascending along the sequence: not reversed
        assertTrue(!loader.flipped(i));
      }
      assertArrayEquals(new long[] {5, 6, 1}, loader.batch(0).shape());
    }
  }

  @Test
  void constructionErrors() {
    IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
        () -> new BatchLoader(synthetic(3, true), 4, 0, false, 1, 1));
    assertEquals("too few examples for a batch: 3 examples, batch size 4", few.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new BatchLoader(synthetic(3, true), 0, 0, false, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new BatchLoader(synthetic(3, true), 1, 0, false, 0, 1));
    try (BatchLoader loader = new BatchLoader(synthetic(3, true), 1, 0, false, 1, 1)) {
      assertThrows(IllegalStateException.class, loader::next);
      loader.start(0);
      assertThrows(IllegalStateException.class, () -> loader.start(1));
    }
  }

  @Test
  void closeIsPromptEvenWhileDecodingBlocks() {
    Dataset slow = new Dataset() {
      @Override
      public int size() {
        return 4;
      }

      @Override
      public long[] exampleShape() {
        return new long[] {1, 1, 1};
      }

      @Override
      public void read(int index, float[] dst, int offset) throws IOException {
        try {
          Thread.sleep(60_000);
        } catch (InterruptedException e) {
          throw new java.io.InterruptedIOException("interrupted");
        }
      }

      @Override
      public int[] labels() {
        return null;
      }

      @Override
      public String describe() {
        return "slow";
      }
    };
    assertTimeoutPreemptively(PROMPTLY, () -> {
      BatchLoader loader = new BatchLoader(slow, 2, 0, false, 2, 2);
      assertNull(loader.labels(0));
      assertEquals(0, loader.numClasses());
      loader.start(0);
      CompletableFuture<FloatArray> waiting = CompletableFuture.supplyAsync(() -> {
        try {
          return loader.next();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Thread.sleep(100);
      loader.close();
      ExecutionException e = assertThrows(ExecutionException.class, waiting::get);
      assertTrue(e.getCause() instanceof IllegalStateException, e.getCause().toString());
    });
  }

  @Test
  void decodingErrorSurfacesFromNextWithTheFileNamed() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("images"));
    ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", folder.resolve("a.png").toFile());
    Files.writeString(folder.resolve("b.png"), "not a png");
    ImageFolderDataset data = ImageFolderDataset.open(folder, 4, 4, 3, null);
    assertTimeoutPreemptively(PROMPTLY, () -> {
      try (BatchLoader loader = new BatchLoader(data, 2, 0, true, 2, 2)) {
        loader.start(0);
        IOException e = assertThrows(IOException.class, loader::next);
        assertTrue(e.getMessage().contains("cannot load batch 0") && e.getMessage().contains("b.png"),
            e.getMessage());
        IOException again = assertThrows(IOException.class, loader::next);
        assertEquals(e.getMessage(), again.getMessage());
      }
    });
  }
}
