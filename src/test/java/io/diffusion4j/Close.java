package io.diffusion4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Element-wise comparison of float arrays that reports the worst element. */
public final class Close {
  private Close() {}

  /** Every |expected - actual| is at most {@code tol}; a NaN anywhere fails. */
  public static void assertClose(float[] expected, float[] actual, double tol) {
    assertEquals(expected.length, actual.length);
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(expected[i] - actual[i]);
      if (err > worst || Double.isNaN(err)) {
        worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
        at = i;
      }
    }
    assertTrue(worst <= tol, "max |difference| " + worst + " at " + at + " (expected "
        + (at < 0 ? 0 : expected[at]) + ", got " + (at < 0 ? 0 : actual[at]) + ")");
  }
}
