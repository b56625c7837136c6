package io.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Statistical;
import io.diffusion4j.io.FloatArray;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Fréchet distance against closed forms, and the eigensolver under it. */
class FrechetDistanceTest {

  /** A random orthogonal matrix (Gram-Schmidt on Gaussian columns), rows orthonormal. */
  static double[][] orthogonal(Random r, int d) {
    double[][] q = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        q[i][j] = r.nextGaussian();
      }
      for (int k = 0; k < i; k++) {
        double dot = Matrices.dot(q[i], q[k], d);
        for (int j = 0; j < d; j++) {
          q[i][j] -= dot * q[k][j];
        }
      }
      double norm = Math.sqrt(Matrices.dot(q[i], q[i], d));
      for (int j = 0; j < d; j++) {
        q[i][j] /= norm;
      }
    }
    return q;
  }

  /** Q^T diag(values) Q. */
  static double[][] withEigenvalues(double[][] q, double[] values) {
    int d = values.length;
    double[][] s = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        for (int k = 0; k < d; k++) {
          s[i][j] += q[k][i] * values[k] * q[k][j];
        }
      }
    }
    return s;
  }

  @Test
  void eigendecompositionReconstructsTheMatrix() {
    Random r = new Random(3);
    int d = 60;
    double[][] a = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j <= i; j++) {
        a[i][j] = a[j][i] = r.nextGaussian();
      }
    }
    SymmetricEigen.Result e = SymmetricEigen.of(a, true);
    for (int k = 0; k < d; k++) {
      if (k > 0) {
        assertTrue(e.values()[k - 1] <= e.values()[k], "ascending");
      }
      for (int i = 0; i < d; i++) {
        double av = Matrices.dot(a[i], e.vectors()[k], d);
        assertEquals(e.values()[k] * e.vectors()[k][i], av, 1e-10);
      }
      for (int l = 0; l < d; l++) {
        assertEquals(k == l ? 1 : 0, Matrices.dot(e.vectors()[k], e.vectors()[l], d), 1e-12);
      }
    }
    double[] valuesOnly = SymmetricEigen.of(a, false).values();
    for (int k = 0; k < d; k++) {
      assertEquals(e.values()[k], valuesOnly[k], 1e-10);
    }
  }

  @Test
  void aSetAgainstItselfIsZero() {
    FeatureStatistics s = FeatureStatistics.of("test", gaussian(new Random(1), 500, 32, 0.5, 2));
    assertEquals(0, FrechetDistance.between(s, s), 1e-9);
  }

  /** In 2-D, tr(M^(1/2)) = sqrt(tr M + 2 sqrt(det M)) for M = S1 S2, a closed form for non-commuting covariances. */
  @Test
  void matchesTheClosedFormIn2d() {
    double[][] s1 = {{2.0, 0.7}, {0.7, 1.0}};
    double[][] s2 = {{0.5, -0.3}, {-0.3, 3.0}};
    double[] mu1 = {1, 2};
    double[] mu2 = {-0.5, 2.5};
    double trProduct = s1[0][0] * s2[0][0] + s1[0][1] * s2[1][0] + s1[1][0] * s2[0][1] + s1[1][1] * s2[1][1];
    double det = (s1[0][0] * s1[1][1] - s1[0][1] * s1[1][0]) * (s2[0][0] * s2[1][1] - s2[0][1] * s2[1][0]);
    double expected = 1.5 * 1.5 + 0.5 * 0.5 + 3.0 + 3.5 - 2 * Math.sqrt(trProduct + 2 * Math.sqrt(det));
    assertEquals(expected, FrechetDistance.between(mu1, s1, mu2, s2), 1e-12);
  }

  /** Covariances sharing eigenvectors Q: the FD is sum (sqrt(a_k) - sqrt(b_k))^2 plus the mean term. */
  @Test
  void matchesTheClosedFormForCovariancesWithCommonAxes() {
    Random r = new Random(7);
    int d = 80;
    double[][] q = orthogonal(r, d);
    double[] a = new double[d];
    double[] b = new double[d];
    double[] mu1 = new double[d];
    double[] mu2 = new double[d];
    double expected = 0;
    for (int k = 0; k < d; k++) {
      a[k] = 0.1 + 3 * r.nextDouble();
      // a few zero variances: singular covariances are allowed
      b[k] = k % 10 == 0 ? 0 : 0.1 + 3 * r.nextDouble();
      mu1[k] = r.nextGaussian();
      mu2[k] = r.nextGaussian();
      expected += Math.pow(Math.sqrt(a[k]) - Math.sqrt(b[k]), 2) + Math.pow(mu1[k] - mu2[k], 2);
    }
    double fd = FrechetDistance.between(mu1, withEigenvalues(q, a), mu2, withEigenvalues(q, b));
    assertEquals(expected, fd, 1e-9 * expected);
  }

  /** Sample statistics of two Gaussians converge to the closed form of the populations. */
  @Test
  void samplesOfTwoGaussiansApproachTheirDistance() {
    Random r = new Random(11);
    int d = 4;
    int n = 40_000;
    FeatureStatistics a = FeatureStatistics.of("test", gaussian(r, n, d, 0, 1));
    FeatureStatistics b = FeatureStatistics.of("test", gaussian(r, n, d, 1, 2));
    // N(0, I) vs N(1, 4 I): d * 1^2 + d * (1 - 2)^2. To first order the estimate moves by
    // 2 (m_b - m_a).e (e ~ N(0, 5/n) per axis), -tr(E_a) and tr(E_b) / 2 (E the covariance errors,
    // diagonal variances 2/n and 32/n): variance (4 * 5 + 2 + 32 / 4) d / n; the bias (d 5 / n from
    // the means, O(1/n) from the trace) is below 0.01
    double sd = Math.sqrt(30.0 * d / n);
    Statistical.assertNormalWithin(FrechetDistance.between(a, b), 2.0 * d, sd, 0.01, "FD of two Gaussians' samples");
  }

  @Test
  void singularCovariancesAreReported() {
    FeatureStatistics few = FeatureStatistics.of("net-x", gaussian(new Random(2), 10, 16, 0, 1));
    String warning = few.conditionWarning("samples").orElseThrow();
    assertTrue(warning.contains("10 samples") && warning.contains("16 features") && warning.contains("net-x"), warning);
    assertTrue(FeatureStatistics.of("net-x", gaussian(new Random(2), 17, 16, 0, 1))
        .conditionWarning("samples").isEmpty());
    assertTrue(Double.isFinite(FrechetDistance.between(few, few)));
  }

  @Test
  void refusesFeaturesOfDifferentNetworks() {
    FeatureStatistics a = FeatureStatistics.of("net-a", gaussian(new Random(2), 20, 4, 0, 1));
    FeatureStatistics b = FeatureStatistics.of("net-b", gaussian(new Random(3), 20, 4, 0, 1));
    var e = assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(a, b));
    assertTrue(e.getMessage().contains("net-a") && e.getMessage().contains("net-b"), e.getMessage());
  }

  /** n vectors of d independent N(mean, std^2) values. */
  static FloatArray gaussian(Random r, int n, int d, double mean, double std) {
    FloatArray a = FloatArray.zeros(n, d);
    for (int i = 0; i < a.data().length; i++) {
      a.data()[i] = (float) (mean + std * r.nextGaussian());
    }
    return a;
  }
}
