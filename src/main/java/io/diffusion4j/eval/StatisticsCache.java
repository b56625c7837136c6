package io.diffusion4j.eval;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.io.DoubleArray;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Safetensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A dataset's feature statistics, kept in one safetensors file next to the results so that the
 * data's features are computed once: {@code mean} (F64 [d]), {@code covariance} (F64 [d, d]) and
 * the {@code features} themselves (F32 [n, d], for the kernel distance), with the network's name
 * and id, the count and a key in the metadata. The key is a SHA-256 of the feature network's id (name,
 * layer and a hash of its weights), the examples' shape and count and every value of every example
 * used; a file whose key differs is recomputed and replaced, so changed data, another network or
 * another count never reuse stale statistics.
 */
public final class StatisticsCache {
  static final String FORMAT = "diffusion4j-feature-statistics-1";
  private static final int BATCH = 500;

  /** How the help texts name {@link #defaultDirectory()}. */
  public static final String DEFAULT_DIR_DESCRIPTION = "$XDG_CACHE_HOME/diffusion4j/fid-stats, or ~/.cache/diffusion4j/fid-stats";

  private StatisticsCache() {}

  /** The cache file for {@code net}'s statistics in {@code folder} (a training run's results folder). */
  public static Path file(Path folder, FeatureNetwork net) {
    return folder.resolve(baseName(net) + ".safetensors");
  }

  private static String baseName(FeatureNetwork net) {
    return "fid-stats-" + net.name().replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** The per-user cache folder of the {@code fid} command: never inside a model folder or a SavedModel. */
  public static Path defaultDirectory() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("diffusion4j").resolve("fid-stats");
  }

  /**
   * The statistics of {@code count} examples of {@code data} (all of them when it holds no more,
   * else evenly spaced through it), read from {@code file} when it holds them, else computed and
   * written there. {@code log} hears what happens.
   */
  public static FeatureStatistics dataStatistics(FeatureNetwork net, Dataset data, int count, Path file,
      Consumer<String> log) throws IOException {
    return dataStatistics(net, data, count, key -> file, log);
  }

  /**
   * As {@link #dataStatistics(FeatureNetwork, Dataset, int, Path, Consumer)} with the file in
   * {@code folder}, named by the network and the key, so that one folder serves any data.
   */
  public static FeatureStatistics dataStatisticsIn(FeatureNetwork net, Dataset data, int count, Path folder,
      Consumer<String> log) throws IOException {
    return dataStatistics(net, data, count, key -> folder.resolve(baseName(net) + "-" + key.substring(0, 16)
        + ".safetensors"), log);
  }

  private static FeatureStatistics dataStatistics(FeatureNetwork net, Dataset data, int count,
      Function<String, Path> fileForKey, Consumer<String> log) throws IOException {
    net.checkImages(data.exampleShape());
    int[] indices = spread(data.size(), count);
    String key = key(net, data, indices);
    Path file = fileForKey.apply(key);
    FeatureStatistics cached = read(file, key, net, log);
    if (cached != null) {
      log.accept("data statistics for " + net.name() + " from " + file + " (" + indices.length + " examples)");
      return cached;
    }
    log.accept("computing " + net.name() + " features of " + indices.length + " examples of " + data.describe());
    FeatureStatistics stats = FeatureStatistics.of(net,
        (first, n) -> data.examples(Arrays.copyOfRange(indices, first, first + n)), indices.length, BATCH);
    try {
      write(file, key, stats, net.id(), data.describe());
    } catch (IOException e) {
      log.accept("warning: cannot cache the data statistics in " + file + ": " + e.getMessage());
    }
    return stats;
  }

  /** All indices when {@code count >= size}, else {@code count} of them spread evenly from 0. */
  static int[] spread(int size, int count) {
    int n = Math.min(size, count);
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = (int) ((long) i * size / n);
    }
    return idx;
  }

  private static String key(FeatureNetwork net, Dataset data, int[] indices) throws IOException {
    Hasher h = Hashing.sha256().newHasher()
        .putString(FORMAT + "\n" + net.id() + "\n" + Arrays.toString(data.exampleShape()) + "\n" + indices.length,
            StandardCharsets.UTF_8);
    for (int first = 0; first < indices.length; first += BATCH) {
      int n = Math.min(BATCH, indices.length - first);
      for (float v : data.examples(Arrays.copyOfRange(indices, first, first + n)).data()) {
        h.putFloat(v);
      }
    }
    return h.hash().toString();
  }

  /** The cached statistics when {@code file} holds them under {@code key}, else null. */
  static FeatureStatistics read(Path file, String key, FeatureNetwork net, Consumer<String> log) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      Map<String, String> meta = Safetensors.readMetadata(file);
      if (!FORMAT.equals(meta.get("format")) || !key.equals(meta.get("key"))) {
        log.accept("the statistics in " + file + " are for other data, another network or another count: recomputing");
        return null;
      }
      FloatArray features = Safetensors.read(file).get("features");
      Map<String, DoubleArray> doubles = Safetensors.readDoubles(file);
      DoubleArray mean = doubles.get("mean");
      DoubleArray cov = doubles.get("covariance");
      int d = net.dimension();
      if (features == null || mean == null || cov == null || mean.data().length != d || cov.data().length != d * d) {
        throw new IOException("features, mean or covariance missing or of the wrong size");
      }
      double[][] c = new double[d][];
      for (int i = 0; i < d; i++) {
        c[i] = Arrays.copyOfRange(cov.data(), i * d, (i + 1) * d);
      }
      return new FeatureStatistics(net.name(), features, mean.data(), c);
    } catch (IOException | RuntimeException e) {
      log.accept("ignoring the damaged statistics file " + file + ": " + e.getMessage());
      return null;
    }
  }

  static void write(Path file, String key, FeatureStatistics s, String networkId, String source) throws IOException {
    int d = s.dimension();
    double[] cov = new double[d * d];
    for (int i = 0; i < d; i++) {
      System.arraycopy(s.covariance()[i], 0, cov, i * d, d);
    }
    Map<String, DoubleArray> doubles = new LinkedHashMap<>();
    doubles.put("mean", new DoubleArray(new long[] {d}, s.mean()));
    doubles.put("covariance", new DoubleArray(new long[] {d, d}, cov));
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", FORMAT);
    meta.put("key", key);
    meta.put("network", s.network());
    meta.put("network_id", networkId);
    meta.put("count", Integer.toString(s.count()));
    meta.put("data", source);
    Safetensors.write(file, Map.of("features", s.features()), doubles, meta);
  }
}
