package io.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Statistical;
import io.diffusion4j.io.FloatArray;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KernelDistanceTest {

  /** The estimator written out term by term on a tiny example. */
  @Test
  void matchesTheUnbiasedEstimatorWrittenOut() {
    double[][] x = {{1, 0}, {0, 2}, {1, 1}};
    double[][] y = {{0, 0}, {2, 1}, {-1, 1}};
    int m = 3;
    double xx = 0;
    double yy = 0;
    double xy = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        if (i != j) {
          xx += Math.pow((x[i][0] * x[j][0] + x[i][1] * x[j][1]) / 2 + 1, 3);
          yy += Math.pow((y[i][0] * y[j][0] + y[i][1] * y[j][1]) / 2 + 1, 3);
        }
        xy += Math.pow((x[i][0] * y[j][0] + x[i][1] * y[j][1]) / 2 + 1, 3);
      }
    }
    double expected = (xx + yy) / (m * (m - 1)) - 2 * xy / (m * m);
    assertEquals(expected, KernelDistance.unbiasedMmd2(x, y, 2), 1e-12);
    // one subset of everything is that value, with no spread
    KernelDistance.Result r = KernelDistance.between(floats(x), floats(y), 5, 1000, 0);
    assertEquals(expected, r.mean(), 1e-12);
    assertEquals(0, r.std(), 1e-12);
    assertEquals(3, r.subsetSize());
  }

  /** Unbiased: two samples of one distribution average to 0, within the spread of the estimate. */
  @Test
  void twoSamplesOfOneDistributionScoreZeroOnAverage() {
    Random r = new Random(5);
    int d = 16;
    double sum = 0;
    int runs = 20;
    double[] values = new double[runs];
    for (int i = 0; i < runs; i++) {
      FloatArray a = FrechetDistanceTest.gaussian(r, 200, d, 0, 1);
      FloatArray b = FrechetDistanceTest.gaussian(r, 200, d, 0, 1);
      values[i] = KernelDistance.between(a, b, 10, 100, i).mean();
      sum += values[i];
    }
    double mean = sum / runs;
    double var = 0;
    for (double v : values) {
      var += (v - mean) * (v - mean);
    }
    double standardError = Math.sqrt(var / (runs - 1) / runs);
    // the unbiased estimate has mean 0 between samples of one distribution
    Statistical.assertMeanWithin(values, 0, 0, "KID between samples of one distribution");
    // while a shifted distribution is far away
    double shifted = KernelDistance.between(FrechetDistanceTest.gaussian(r, 200, d, 0, 1),
        FrechetDistanceTest.gaussian(r, 200, d, 0.5, 1), 10, 100, 0).mean();
    assertTrue(shifted > 50 * standardError, "shifted " + shifted);
  }

  @Test
  void isReproducibleFromItsSeed() {
    Random r = new Random(9);
    FloatArray a = FrechetDistanceTest.gaussian(r, 300, 8, 0, 1);
    FloatArray b = FrechetDistanceTest.gaussian(r, 250, 8, 0.1, 1);
    assertEquals(KernelDistance.between(a, b, 7, 50, 3), KernelDistance.between(a, b, 7, 50, 3));
  }

  private static FloatArray floats(double[][] rows) {
    FloatArray a = FloatArray.zeros(rows.length, rows[0].length);
    for (int i = 0; i < rows.length; i++) {
      for (int j = 0; j < rows[0].length; j++) {
        a.data()[i * rows[0].length + j] = (float) rows[i][j];
      }
    }
    return a;
  }
}
