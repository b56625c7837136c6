package io.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.data.ArrayDataset;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.io.FloatArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data statistics cache is used when nothing changed, and recomputed when anything did. */
class StatisticsCacheTest {
  @TempDir
  Path dir;

  /** A network in plain Java that counts the images it sees: features are the pixels' mean, max, first value and spread. */
  static final class CountingNetwork implements FeatureNetwork {
    final String id;
    int images;

    CountingNetwork(String id) {
      this.id = id;
    }

    public String name() {
      return "counting";
    }

    public String id() {
      return id;
    }

    public int dimension() {
      return 4;
    }

    public void checkImages(long[] exampleShape) {}

    public FloatArray features(FloatArray x) {
      int n = (int) x.shape()[0];
      int per = (int) (x.size() / n);
      images += n;
      FloatArray f = FloatArray.zeros(n, 4);
      for (int i = 0; i < n; i++) {
        float sum = 0;
        float max = 0;
        float sq = 0;
        for (int p = 0; p < per; p++) {
          float v = x.data()[i * per + p];
          sum += v;
          sq += v * v;
          max = Math.max(max, v);
        }
        float mean = sum / per;
        f.data()[i * 4] = mean;
        f.data()[i * 4 + 1] = max;
        f.data()[i * 4 + 2] = x.data()[i * per];
        f.data()[i * 4 + 3] = (float) Math.sqrt(sq / per - mean * mean);
      }
      return f;
    }

    public void close() {}
  }

  /** n random 4x4 grey images; {@code changed} alters one pixel of the last one. */
  static Dataset data(int n, boolean changed) {
    float[] values = new float[n * 16];
    Random r = new Random(4);
    for (int i = 0; i < values.length; i++) {
      values[i] = r.nextFloat();
    }
    if (changed) {
      values[values.length - 1] = 0.5f;
    }
    return new ArrayDataset(new FloatArray(new long[] {n, 4, 4, 1}, values), n + " random images");
  }

  @Test
  void reusesTheFileOnlyWhileDataNetworkAndCountAreTheSame() throws IOException {
    Path file = dir.resolve("fid-stats-counting.safetensors");
    List<String> log = new ArrayList<>();
    CountingNetwork net = new CountingNetwork("counting/v1");
    FeatureStatistics first = StatisticsCache.dataStatistics(net, data(600, false), 1000, file, log::add);
    assertEquals(600, net.images);
    assertEquals(600, first.count());
    assertTrue(Files.isRegularFile(file));

    FeatureStatistics again = StatisticsCache.dataStatistics(net, data(600, false), 1000, file, log::add);
    assertEquals(600, net.images, "the second call reads the file");
    assertArrayEquals(first.mean(), again.mean());
    for (int i = 0; i < 4; i++) {
      assertArrayEquals(first.covariance()[i], again.covariance()[i]);
    }
    assertEquals(first.features(), again.features());
    assertEquals(0, FrechetDistance.between(first, again), 1e-12);

    StatisticsCache.dataStatistics(net, data(600, true), 1000, file, log::add);
    assertEquals(1200, net.images, "changed data is recomputed");
    StatisticsCache.dataStatistics(net, data(600, true), 300, file, log::add);
    assertEquals(1500, net.images, "another count is recomputed");
    CountingNetwork other = new CountingNetwork("counting/v2");
    StatisticsCache.dataStatistics(other, data(600, true), 300, file, log::add);
    assertEquals(300, other.images, "another network is recomputed");
    StatisticsCache.dataStatistics(other, data(600, true), 300, file, log::add);
    assertEquals(300, other.images, "and then reused");
    assertTrue(log.stream().anyMatch(l -> l.contains("recomputing")), log.toString());
  }

  @Test
  void aDamagedFileIsRecomputedAndReplaced() throws IOException {
    Path file = dir.resolve("stats.safetensors");
    Files.write(file, new byte[] {1, 2, 3});
    List<String> log = new ArrayList<>();
    CountingNetwork net = new CountingNetwork("counting/v1");
    StatisticsCache.dataStatistics(net, data(50, false), 50, file, log::add);
    assertTrue(log.stream().anyMatch(l -> l.contains("damaged")), log.toString());
    StatisticsCache.dataStatistics(net, data(50, false), 50, file, log::add);
    assertEquals(50, net.images);
  }

  @Test
  void spreadsASubsetEvenly() {
    assertArrayEquals(new int[] {0, 2, 5, 7}, StatisticsCache.spread(10, 4));
    assertArrayEquals(new int[] {0, 1, 2}, StatisticsCache.spread(3, 10));
  }
}
