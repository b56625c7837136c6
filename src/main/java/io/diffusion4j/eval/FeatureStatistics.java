package io.diffusion4j.eval;

import io.diffusion4j.io.FloatArray;
import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A set of feature vectors [n, d] from one feature network, with their mean and covariance in
 * double precision (the covariance normalised by n - 1, as numpy.cov): what the Fréchet distance
 * compares. The features themselves stay, for the kernel distance. Arrays are shared, not copied:
 * treat them as read-only.
 */
public final class FeatureStatistics {
  /** Rows of the centred features taken at a time: a block stays in cache while it meets every other. */
  private static final int BLOCK = 256;

  private final String network;
  private final FloatArray features;
  private final double[] mean;
  private final double[][] covariance;

  FeatureStatistics(String network, FloatArray features, double[] mean, double[][] covariance) {
    this.network = network;
    this.features = features;
    this.mean = mean;
    this.covariance = covariance;
  }

  /** Images made on demand, batch by batch: a dataset read in order, or samples drawn from a model. */
  @FunctionalInterface
  public interface ImageSource {
    /** Images {@code first} .. {@code first + n - 1}, [n, H, W, C] in [0, 1]. */
    FloatArray images(int first, int n) throws IOException;
  }

  /** The statistics of the features {@code net} gives {@code count} images of {@code source}, fed {@code batch} at a time. */
  public static FeatureStatistics of(FeatureNetwork net, ImageSource source, int count, int batch) throws IOException {
    if (count < 2 || batch < 1) {
      throw new IllegalArgumentException("feature statistics need at least 2 images in batches of at least 1, got "
          + count + " images, batch " + batch);
    }
    int d = net.dimension();
    float[] all = new float[Math.multiplyExact(count, d)];
    for (int first = 0; first < count; first += batch) {
      int n = Math.min(batch, count - first);
      FloatArray f = net.features(source.images(first, n));
      System.arraycopy(f.data(), 0, all, first * d, n * d);
    }
    return of(net.name(), new FloatArray(new long[] {count, d}, all));
  }

  /** The statistics of {@code features} [n, d] (n at least 2) made by the network named {@code network}. */
  public static FeatureStatistics of(String network, FloatArray features) {
    if (features.rank() != 2) {
      throw new IllegalArgumentException("features must be [n, d], got " + Arrays.toString(features.shape()));
    }
    int n = (int) features.shape()[0];
    int d = (int) features.shape()[1];
    if (n < 2) {
      throw new IllegalArgumentException("a covariance needs at least 2 feature vectors, got " + n);
    }
    float[] x = features.data();
    double[] mean = new double[d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        mean[j] += x[i * d + j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    return new FeatureStatistics(network, features, mean, covariance(x, n, d, mean));
  }

  /** sum_k (x_k - mean)(x_k - mean)^T / (n - 1), accumulated block by block over the rows. */
  private static double[][] covariance(float[] x, int n, int d, double[] mean) {
    double[][] c = new double[d][d];
    double[][] block = new double[d][BLOCK];
    for (int first = 0; first < n; first += BLOCK) {
      int b = Math.min(BLOCK, n - first);
      for (int r = 0; r < b; r++) {
        for (int j = 0; j < d; j++) {
          block[j][r] = x[(first + r) * d + j] - mean[j];
        }
      }
      IntStream.range(0, d).parallel().forEach(i -> {
        double[] ci = c[i];
        for (int j = i; j < d; j++) {
          ci[j] += Matrices.dot(block[i], block[j], b);
        }
      });
    }
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        c[i][j] /= n - 1;
        c[j][i] = c[i][j];
      }
    }
    return c;
  }

  /** The name of the feature network, printed with every score. */
  public String network() {
    return network;
  }

  public int count() {
    return (int) features.shape()[0];
  }

  public int dimension() {
    return (int) features.shape()[1];
  }

  public FloatArray features() {
    return features;
  }

  public double[] mean() {
    return mean;
  }

  public double[][] covariance() {
    return covariance;
  }

  /**
   * A sentence when the covariance is singular: n vectors span at most n - 1 dimensions, so with
   * no more vectors than features the Fréchet distance is biased upwards and not comparable with
   * scores from larger sets.
   */
  public Optional<String> conditionWarning(String what) {
    if (count() > dimension()) {
      return Optional.empty();
    }
    return Optional.of("the covariance of " + count() + " " + what + " is singular (" + dimension() + " features from "
        + network + " need more than " + dimension() + " vectors): the FD is biased upwards and comparable only"
        + " with scores from the same number of " + what);
  }
}
