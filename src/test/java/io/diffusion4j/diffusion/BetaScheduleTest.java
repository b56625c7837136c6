package io.diffusion4j.diffusion;

import io.diffusion4j.io.ConfigRecords;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The three beta schedules against their closed forms, written out here independently of the main
 * code, and against the reference's own float64 betas (schedules.json, T = 10).
 */
class BetaScheduleTest {

  /** float64 formulas evaluated the same way on both sides: only rounding order may differ. */
  private static final double CLOSED_FORM_TOL = 1e-13;
  /** The fixture holds the reference's float64 betas printed with repr: they round-trip exactly. */
  private static final double REFERENCE_TOL = 1e-12;

  // ---- closed forms --------------------------------------------------------------------------

  /** torch.linspace(1e-4 * 1000/T, 0.02 * 1000/T, T). */
  static double[] linearClosedForm(int T) {
    double lo = 0.0001 * 1000.0 / T;
    double hi = 0.02 * 1000.0 / T;
    double[] b = new double[T];
    for (int i = 0; i < T; i++) {
      b[i] = T == 1 ? lo : lo + (hi - lo) * i / (T - 1.0);
    }
    return b;
  }

  /** alpha_bar(t) = cos^2(((t/T) + s)/(1 + s) * pi/2), normalised by alpha_bar(0); beta clipped to [0, 0.999]. */
  static double[] cosineClosedForm(int T, double s) {
    double[] b = new double[T];
    for (int i = 0; i < T; i++) {
      b[i] = clip(1 - cosAlphaBar(i + 1, T, s) / cosAlphaBar(i, T, s));
    }
    return b;
  }

  private static double cosAlphaBar(int i, int T, double s) {
    double c = Math.cos(((double) i / T + s) / (1 + s) * Math.PI / 2);
    return c * c / square(Math.cos(s / (1 + s) * Math.PI / 2));
  }

  /** alpha_bar(t) = (sigmoid(end/tau) - sigmoid((t/T (end - start) + start)/tau)) / (sigmoid(end/tau) - sigmoid(start/tau)). */
  static double[] sigmoidClosedForm(int T, double start, double end, double tau) {
    double[] b = new double[T];
    for (int i = 0; i < T; i++) {
      b[i] = clip(1 - sigAlphaBar(i + 1, T, start, end, tau) / sigAlphaBar(i, T, start, end, tau));
    }
    return b;
  }

  private static double sigAlphaBar(int i, int T, double start, double end, double tau) {
    double t = (double) i / T;
    // the reference computes these two as float32 tensors (torch.tensor(x).sigmoid())
    double vEnd = (float) sigmoid(end / tau);
    double vStart = (float) sigmoid(start / tau);
    return (vEnd - sigmoid((t * (end - start) + start) / tau)) / (vEnd - vStart);
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  private static double clip(double beta) {
    return Math.min(Math.max(beta, 0), 0.999);
  }

  private static double square(double x) {
    return x * x;
  }

  // ---- against the closed forms --------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 10, 100, 1000})
  void linearIsRescaledLinspace(int T) {
    double[] b = BetaSchedule.LINEAR.betas(T, Map.of());
    assertClose(linearClosedForm(T), b, CLOSED_FORM_TOL, "linear T=" + T);
    assertEquals(0.1 / T, b[0], 1e-15, "first beta");
    if (T > 1) {
      assertEquals(20.0 / T, b[T - 1], 1e-15, "last beta");
    }
  }

  @Test
  void linearAt1000IsHoEtAl() {
    double[] b = BetaSchedule.LINEAR.betas(1000, Map.of());
    assertEquals(1e-4, b[0], 1e-15);
    assertEquals(0.02, b[999], 1e-15);
    // equally spaced
    for (int i = 1; i < 1000; i++) {
      assertEquals((0.02 - 1e-4) / 999, b[i] - b[i - 1], 1e-15, "spacing at " + i);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 10, 100, 1000})
  void cosineMatchesClosedForm(int T) {
    assertClose(cosineClosedForm(T, 0.008), BetaSchedule.COSINE.betas(T, Map.of()), CLOSED_FORM_TOL, "cosine T=" + T);
    assertClose(cosineClosedForm(T, 0.02), BetaSchedule.COSINE.betas(T, Map.of("s", 0.02)), CLOSED_FORM_TOL,
        "cosine s=0.02 T=" + T);
  }

  @Test
  void cosineIsClippedAt0999() {
    // alpha_bar(T) = cos^2(pi/2) = 0: the last beta would be 1 without the clip
    for (int T : new int[] {10, 1000}) {
      double[] b = BetaSchedule.COSINE.betas(T, Map.of());
      assertEquals(0.999, b[T - 1], 0.0, "T=" + T);
      for (double beta : b) {
        assertTrue(beta >= 0 && beta <= 0.999, "beta " + beta + " outside [0, 0.999]");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 10, 100, 1000})
  void sigmoidMatchesClosedForm(int T) {
    assertClose(sigmoidClosedForm(T, -3, 3, 1), BetaSchedule.SIGMOID.betas(T, Map.of()), CLOSED_FORM_TOL,
        "sigmoid default T=" + T);
    assertClose(sigmoidClosedForm(T, -2, 2, 0.5),
        BetaSchedule.SIGMOID.betas(T, Map.of("start", -2.0, "end", 2.0, "tau", 0.5)), CLOSED_FORM_TOL,
        "sigmoid start=-2 end=2 tau=0.5 T=" + T);
    // clamp_min is accepted and, as in the reference 2.3.1, has no effect
    assertClose(sigmoidClosedForm(T, -3, 3, 1), BetaSchedule.SIGMOID.betas(T, Map.of("clamp_min", 0.5)),
        CLOSED_FORM_TOL, "sigmoid clamp_min T=" + T);
  }

  @Test
  void sigmoidLastBetaIsClipped() {
    // alpha_bar(T) = 0 for every start/end/tau, so the last beta is clipped to 0.999
    assertEquals(0.999, BetaSchedule.SIGMOID.betas(10, Map.of())[9], 0.0);
    assertEquals(0.999, BetaSchedule.SIGMOID.betas(10, Map.of("start", -2.0, "end", 2.0, "tau", 0.5))[9], 0.0);
  }

  @Test
  void schedulesAreIncreasing() {
    for (BetaSchedule s : BetaSchedule.values()) {
      double[] b = s.betas(1000, Map.of());
      for (int i = 1; i < b.length; i++) {
        assertTrue(b[i] >= b[i - 1], s + " not increasing at " + i);
      }
    }
  }

  @Test
  void rejectsUnknownOptionsAndBadTimesteps() {
    assertThrows(IllegalArgumentException.class, () -> BetaSchedule.LINEAR.betas(10, Map.of("s", 0.008)));
    assertThrows(IllegalArgumentException.class, () -> BetaSchedule.COSINE.betas(10, Map.of("tau", 1.0)));
    assertThrows(IllegalArgumentException.class, () -> BetaSchedule.SIGMOID.betas(10, Map.of("s", 0.008)));
    assertThrows(IllegalArgumentException.class, () -> BetaSchedule.COSINE.betas(0, Map.of()));
    assertEquals(BetaSchedule.SIGMOID, ConfigRecords.choice(BetaSchedule.class, "beta_schedule", "sigmoid"));
    assertThrows(IllegalArgumentException.class, () -> ConfigRecords.choice(BetaSchedule.class, "beta_schedule", "quadratic"));
  }

  // ---- against the reference's own float64 betas ---------------------------------------------

  @Test
  void linearMatchesReference() {
    assertClose(ReferenceSchedules.betas("linear"), BetaSchedule.LINEAR.betas(ReferenceSchedules.timesteps(), Map.of()),
        REFERENCE_TOL, "linear vs reference");
  }

  @Test
  void cosineMatchesReference() {
    assertClose(ReferenceSchedules.betas("cosine"),
        BetaSchedule.COSINE.betas(ReferenceSchedules.timesteps(), Map.of("s", 0.008)), REFERENCE_TOL,
        "cosine vs reference");
  }

  /**
   * Fails on main code: the reference computes {@code v_start = torch.tensor(start / tau).sigmoid()}
   * and likewise v_end, which are float32 tensors (torch's default dtype), so their values are
   * rounded to float32 before they enter the float64 formula. BetaSchedule.sigmoid keeps them in
   * double, which moves the betas by up to 5e-8 (defaults) and 3e-7 (start -2, end 2, tau 0.5).
   * Emulating the float32 rounding of v_start/v_end reproduces the fixture to 2e-16 (checked below).
   */
  @Test
  void sigmoidMatchesReference() {
    int T = ReferenceSchedules.timesteps();
    assertClose(ReferenceSchedules.betas("sigmoid"), BetaSchedule.SIGMOID.betas(T, Map.of()), REFERENCE_TOL,
        "sigmoid (defaults) vs reference");
  }

  @Test
  void sigmoidWithOptionsMatchesReference() {
    int T = ReferenceSchedules.timesteps();
    assertClose(ReferenceSchedules.betas("sigmoid_start-2_end2_tau0.5"),
        BetaSchedule.SIGMOID.betas(T, Map.of("start", -2.0, "end", 2.0, "tau", 0.5)), REFERENCE_TOL,
        "sigmoid (start -2, end 2, tau 0.5) vs reference");
  }


  static void assertClose(double[] expected, double[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double d = Math.abs(expected[i] - actual[i]);
      if (!(d <= tol) && !(Double.isNaN(expected[i]) && Double.isNaN(actual[i]))) {
        if (!(d <= worst)) {
          worst = d;
          at = i;
        }
      }
    }
    if (at >= 0) {
      throw new AssertionError(what + ": largest difference " + worst + " > " + tol + " at index " + at
          + " (expected " + expected[at] + ", got " + actual[at] + ")");
    }
  }
}
