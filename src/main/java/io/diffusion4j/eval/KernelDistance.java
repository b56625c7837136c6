package io.diffusion4j.eval;

import io.diffusion4j.io.FloatArray;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The kernel distance (KID, Bińkowski et al. 2018): the unbiased estimate of the squared maximum
 * mean discrepancy under the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over
 * random subsets of both sets, as torch-fidelity and clean-fid compute it (100 subsets of 1000 by
 * default). Unlike the FD it has no bias from the number of samples: two sets drawn from one
 * distribution score 0 on average, and a single subset can score below 0.
 */
public final class KernelDistance {
  public static final int DEFAULT_SUBSETS = 100;
  public static final int DEFAULT_SUBSET_SIZE = 1000;

  /** The mean and (population) standard deviation over the subsets. */
  public record Result(double mean, double std, int subsets, int subsetSize) {}

  private KernelDistance() {}

  /**
   * KID between feature sets {@code x} [n, d] and {@code y} [m, d] over {@code subsets} subsets of
   * min(subsetSize, n, m) vectors each, drawn without replacement with {@code seed}.
   */
  public static Result between(FloatArray x, FloatArray y, int subsets, int subsetSize, long seed) {
    if (x.rank() != 2 || y.rank() != 2 || x.shape()[1] != y.shape()[1]) {
      throw new IllegalArgumentException("features must be [n, d] and [m, d] with one d, got "
          + Arrays.toString(x.shape()) + " and " + Arrays.toString(y.shape()));
    }
    if (subsets < 1) {
      throw new IllegalArgumentException("KID subsets = " + subsets + " must be at least 1");
    }
    int n = (int) x.shape()[0];
    int m = (int) y.shape()[0];
    int d = (int) x.shape()[1];
    int size = Math.min(subsetSize, Math.min(n, m));
    if (size < 2) {
      throw new IllegalArgumentException("KID needs subsets of at least 2 vectors, got " + size
          + " (subset size " + subsetSize + ", sets of " + n + " and " + m + ")");
    }
    double[][] xs = Matrices.rows(x.data(), n, d);
    double[][] ys = Matrices.rows(y.data(), m, d);
    // drawn up front, in order, so the result does not depend on how the subsets are scheduled
    SplittableRandom random = new SplittableRandom(seed);
    int[][] pickX = new int[subsets][];
    int[][] pickY = new int[subsets][];
    for (int s = 0; s < subsets; s++) {
      pickX[s] = choose(random, n, size);
      pickY[s] = choose(random, m, size);
    }
    double[] mmd = IntStream.range(0, subsets).parallel()
        .mapToDouble(s -> unbiasedMmd2(select(xs, pickX[s]), select(ys, pickY[s]), d)).toArray();
    double mean = Arrays.stream(mmd).average().orElseThrow();
    double var = Arrays.stream(mmd).map(v -> (v - mean) * (v - mean)).sum() / subsets;
    return new Result(mean, Math.sqrt(var), subsets, size);
  }

  /**
   * (sum_{i != j} k(x_i, x_j) + sum_{i != j} k(y_i, y_j)) / (m (m - 1)) - 2 sum_{i, j} k(x_i, y_j) / m^2
   * for two sets of m vectors.
   */
  static double unbiasedMmd2(double[][] x, double[][] y, int d) {
    int m = x.length;
    double xx = 0;
    double yy = 0;
    double xy = 0;
    for (int i = 0; i < m; i++) {
      for (int j = i + 1; j < m; j++) {
        xx += kernel(x[i], x[j], d);
        yy += kernel(y[i], y[j], d);
      }
      for (int j = 0; j < m; j++) {
        xy += kernel(x[i], y[j], d);
      }
    }
    return 2 * (xx + yy) / ((double) m * (m - 1)) - 2 * xy / ((double) m * m);
  }

  static double kernel(double[] a, double[] b, int d) {
    double k = Matrices.dot(a, b, d) / d + 1;
    return k * k * k;
  }

  private static int[] choose(SplittableRandom random, int n, int k) {
    int[] all = new int[n];
    for (int i = 0; i < n; i++) {
      all[i] = i;
    }
    for (int i = 0; i < k; i++) {
      int j = i + random.nextInt(n - i);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    return Arrays.copyOf(all, k);
  }

  private static double[][] select(double[][] rows, int[] picks) {
    double[][] out = new double[picks.length][];
    for (int i = 0; i < picks.length; i++) {
      out[i] = rows[picks[i]];
    }
    return out;
  }
}
