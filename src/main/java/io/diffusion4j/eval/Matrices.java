package io.diffusion4j.eval;

/** The few dense double-precision kernels the distances need. */
final class Matrices {
  private Matrices() {}

  /** The dot product of the first {@code n} values; four partial sums let the CPU overlap the adds. */
  static double dot(double[] a, double[] b, int n) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += a[i] * b[i];
      s1 += a[i + 1] * b[i + 1];
      s2 += a[i + 2] * b[i + 2];
      s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) {
      s0 += a[i] * b[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** The rows of a [n, d] float array as doubles. */
  static double[][] rows(float[] data, int n, int d) {
    double[][] out = new double[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        out[i][j] = data[i * d + j];
      }
    }
    return out;
  }

  static double trace(double[][] a) {
    double t = 0;
    for (int i = 0; i < a.length; i++) {
      t += a[i][i];
    }
    return t;
  }
}
