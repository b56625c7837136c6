package io.diffusion4j.eval;

import java.util.stream.IntStream;

/**
 * The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017; FID when
 * the features are Inception's pool_3):
 * {@code |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))}.
 *
 * <p>The trace of the matrix square root is taken in double precision without forming it:
 * S1 S2 is similar to S1^(1/2) S2 S1^(1/2), which is symmetric positive semi-definite, so
 * tr((S1 S2)^(1/2)) is the sum of the square roots of that matrix's eigenvalues. With S1 = U L U^T
 * it is L^(1/2) (U^T S2 U) L^(1/2): one eigendecomposition with vectors, one without. Unlike
 * scipy's sqrtm this cannot produce complex values, and a singular S1 needs no offset.
 */
public final class FrechetDistance {
  private FrechetDistance() {}

  /** The FD between two sets of features of the same network. */
  public static double between(FeatureStatistics a, FeatureStatistics b) {
    if (!a.network().equals(b.network())) {
      throw new IllegalArgumentException("features of different networks cannot be compared: " + a.network()
          + " and " + b.network());
    }
    return between(a.mean(), a.covariance(), b.mean(), b.covariance());
  }

  /** The FD between N(mu1, s1) and N(mu2, s2); s1 and s2 must be symmetric positive semi-definite. */
  public static double between(double[] mu1, double[][] s1, double[] mu2, double[][] s2) {
    int d = mu1.length;
    if (mu2.length != d || s1.length != d || s2.length != d) {
      throw new IllegalArgumentException("dimensions differ: means " + d + " and " + mu2.length
          + ", covariances " + s1.length + " and " + s2.length);
    }
    double meanTerm = 0;
    for (int i = 0; i < d; i++) {
      double diff = mu1[i] - mu2[i];
      meanTerm += diff * diff;
    }
    double fd = meanTerm + Matrices.trace(s1) + Matrices.trace(s2) - 2 * traceSqrtOfProduct(s1, s2);
    // rounding can leave a hair below zero when the two Gaussians are the same
    return Math.max(0, fd);
  }

  /** tr((s1 s2)^(1/2)) through the eigenvalues of L^(1/2) U^T s2 U L^(1/2). */
  static double traceSqrtOfProduct(double[][] s1, double[][] s2) {
    int d = s1.length;
    SymmetricEigen.Result e = SymmetricEigen.of(s1, true);
    double[][] u = e.vectors();
    double[] root = new double[d];
    for (int k = 0; k < d; k++) {
      root[k] = Math.sqrt(Math.max(0, e.values()[k]));
    }
    // p = U^T s2 (row k is eigenvector k times s2), then m[k][l] = root_k (p_k . u_l) root_l
    double[][] p = new double[d][];
    IntStream.range(0, d).parallel().forEach(k -> {
      double[] row = new double[d];
      for (int j = 0; j < d; j++) {
        double ukj = u[k][j];
        double[] s2j = s2[j];
        for (int i = 0; i < d; i++) {
          row[i] += ukj * s2j[i];
        }
      }
      p[k] = row;
    });
    double[][] m = new double[d][d];
    IntStream.range(0, d).parallel().forEach(k -> {
      for (int l = k; l < d; l++) {
        m[k][l] = root[k] * Matrices.dot(p[k], u[l], d) * root[l];
      }
    });
    for (int k = 0; k < d; k++) {
      for (int l = 0; l < k; l++) {
        m[k][l] = m[l][k];
      }
    }
    double trace = 0;
    for (double v : SymmetricEigen.of(m, false).values()) {
      trace += Math.sqrt(Math.max(0, v));
    }
    return trace;
  }
}
