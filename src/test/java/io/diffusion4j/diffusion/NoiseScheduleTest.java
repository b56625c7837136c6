package io.diffusion4j.diffusion;

import io.diffusion4j.io.ConfigRecords;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The quantities derived from the betas, recomputed here from their definitions, and compared with
 * the float32 buffers the reference registers (schedules.json).
 */
class NoiseScheduleTest {

  /**
   * float32 buffers: the reference computes in float64 and rounds once to float32 (relative error
   * 2^-24 = 6e-8); 1e-6 relative leaves room for the float64 rounding order and nothing more.
   */
  private static final double F32_REL = 1e-6;

  private static final String[] BUFFERS = {"betas", "alphas_cumprod", "alphas_cumprod_prev",
      "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
      "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped",
      "posterior_mean_coef1", "posterior_mean_coef2"};

  static Stream<BetaSchedule> schedules() {
    return Stream.of(BetaSchedule.values());
  }

  @ParameterizedTest
  @MethodSource("schedules")
  void derivedQuantitiesFollowTheirDefinitions(BetaSchedule schedule) {
    for (int T : new int[] {10, 1000}) {
      // the linear schedule at T = 10 has betas > 1 (as the reference's): use a valid T there
      int steps = schedule == BetaSchedule.LINEAR && T == 10 ? 50 : T;
      double[] betas = schedule.betas(steps, Map.of());
      NoiseSchedule s = new NoiseSchedule(betas);
      assertEquals(steps, s.timesteps);
      assertArrayEquals(betas, s.betas);
      double prod = 1;
      for (int t = 0; t < steps; t++) {
        double prev = prod;
        prod *= 1 - betas[t];
        String at = schedule + " T=" + steps + " t=" + t;
        double a = prod;
        assertRel(prev, s.alphasCumprodPrev[t], 1e-13, "alphas_cumprod_prev " + at);
        assertRel(a, s.alphasCumprod[t], 1e-13, "alphas_cumprod " + at);
        assertRel(Math.sqrt(a), s.sqrtAlphasCumprod[t], 1e-13, "sqrt_alphas_cumprod " + at);
        assertRel(Math.sqrt(1 - a), s.sqrtOneMinusAlphasCumprod[t], 1e-13, "sqrt_one_minus " + at);
        assertRel(1 / Math.sqrt(a), s.sqrtRecipAlphasCumprod[t], 1e-13, "sqrt_recip " + at);
        assertRel(Math.sqrt((1 - a) / a), s.sqrtRecipm1AlphasCumprod[t], 1e-12, "sqrt_recipm1 " + at);
        // posterior q(x_{t-1} | x_t, x_0), Ho et al. Eq. 7
        double var = betas[t] * (1 - prev) / (1 - a);
        assertRel(var, s.posteriorVariance[t], 1e-12, "posterior_variance " + at);
        assertEquals(Math.log(Math.max(var, 1e-20)), s.posteriorLogVarianceClipped[t], 1e-12, "log var " + at);
        assertRel(Math.sqrt(prev) * betas[t] / (1 - a), s.posteriorMeanCoef1[t], 1e-12, "coef1 " + at);
        assertRel(Math.sqrt(1 - betas[t]) * (1 - prev) / (1 - a), s.posteriorMeanCoef2[t], 1e-12, "coef2 " + at);
        assertRel(a / (1 - a), s.snr[t], 1e-12, "snr " + at);
        // identities: 1/var = 1/(1 - abar_{t-1}) + alpha_t/beta_t for t > 0 (reference's comment)
        if (t > 0) {
          assertRel(1 / (1 / (1 - prev) + (1 - betas[t]) / betas[t]), s.posteriorVariance[t], 1e-9, "var identity " + at);
        }
        // averaging the posterior mean over x_t ~ q(x_t | x0) gives E[x_{t-1} | x0] = sqrt(abar_{t-1}) x0:
        // coef1 + coef2 sqrt(abar_t) = sqrt(abar_{t-1})
        assertRel(Math.sqrt(prev), s.posteriorMeanCoef1[t] + s.posteriorMeanCoef2[t] * s.sqrtAlphasCumprod[t],
            1e-12, "posterior mean of E[x_{t-1}|x0] " + at);
      }
      assertEquals(1.0, s.alphasCumprodPrev[0], 0.0);
      assertEquals(0.0, s.posteriorVariance[0], 0.0, "no posterior variance at t=0");
      assertEquals(Math.log(1e-20), s.posteriorLogVarianceClipped[0], 1e-12, "clipped log variance at t=0");
      assertEquals(1.0, s.posteriorMeanCoef1[0], 1e-12, "x_{-1} = x0 at t=0");
      assertEquals(0.0, s.posteriorMeanCoef2[0], 0.0);
    }
  }

  /** NoiseSchedule fed the reference's own float64 betas gives its float32 buffers. */
  @Test
  void buffersFromReferenceBetasMatchReference() {
    for (ReferenceSchedules.Buffers ref : ReferenceSchedules.buffers()) {
      double[] betas = ReferenceSchedules.betas(fixtureBetaKey(ref));
      NoiseSchedule s = new NoiseSchedule(betas);
      compareBuffers(ref, s);
    }
  }

  /**
   * The whole path config -> BetaSchedule -> NoiseSchedule gives the reference's buffers. For the
   * sigmoid configuration this inherits the float32-endpoint discrepancy shown in
   * BetaScheduleTest.sigmoidMatchesReference (betas off by up to 5e-8 absolute).
   */
  @Test
  void buffersFromConfigMatchReference() {
    for (ReferenceSchedules.Buffers ref : ReferenceSchedules.buffers()) {
      GaussianDiffusionConfig c = GaussianDiffusionConfig.builder(8, 8).timesteps(ref.timesteps())
          .objective(ref.objective()).betaSchedule(ref.betaSchedule()).build();
      compareBuffers(ref, c.schedule());
    }
  }

  private static String fixtureBetaKey(ReferenceSchedules.Buffers ref) {
    // the fixture's diffusion configs use each schedule's defaults
    return ConfigRecords.configName(ref.betaSchedule());
  }

  private static void compareBuffers(ReferenceSchedules.Buffers ref, NoiseSchedule s) {
    Map<String, double[]> mine = Map.ofEntries(
        Map.entry("betas", s.betas),
        Map.entry("alphas_cumprod", s.alphasCumprod),
        Map.entry("alphas_cumprod_prev", s.alphasCumprodPrev),
        Map.entry("sqrt_alphas_cumprod", s.sqrtAlphasCumprod),
        Map.entry("sqrt_one_minus_alphas_cumprod", s.sqrtOneMinusAlphasCumprod),
        Map.entry("sqrt_recip_alphas_cumprod", s.sqrtRecipAlphasCumprod),
        Map.entry("sqrt_recipm1_alphas_cumprod", s.sqrtRecipm1AlphasCumprod),
        Map.entry("posterior_variance", s.posteriorVariance),
        Map.entry("posterior_log_variance_clipped", s.posteriorLogVarianceClipped),
        Map.entry("posterior_mean_coef1", s.posteriorMeanCoef1),
        Map.entry("posterior_mean_coef2", s.posteriorMeanCoef2));
    for (String name : BUFFERS) {
      double[] expected = ref.get(name);
      double[] actual = f32(mine.get(name));
      assertEquals(expected.length, actual.length, name);
      for (int t = 0; t < expected.length; t++) {
        String what = ref + " " + name + "[" + t + "]";
        if (Double.isNaN(expected[t])) {
          assertEquals(Double.NaN, actual[t], what + " (reference is NaN)");
        } else {
          assertRel(expected[t], actual[t], F32_REL, what);
        }
      }
    }
  }

  private static double[] f32(double[] v) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = (float) v[i];
    }
    return r;
  }

  static void assertRel(double expected, double actual, double rel, String what) {
    double tol = rel * Math.max(Math.abs(expected), 1e-30);
    if (!(Math.abs(expected - actual) <= tol)) {
      throw new AssertionError(what + ": expected " + expected + ", got " + actual + " (relative difference "
          + Math.abs(expected - actual) / Math.abs(expected) + " > " + rel + ")");
    }
  }

  // ---- DDIM time pairs -----------------------------------------------------------------------

  @Test
  void ddimTimePairsFiveOfHundred() {
    NoiseSchedule s = new NoiseSchedule(BetaSchedule.LINEAR.betas(100, Map.of()));
    int[][] expected = {{99, 79}, {79, 59}, {59, 39}, {39, 19}, {19, -1}};
    assertArrayEquals(expected, s.ddimTimePairs(5));
  }

  @Test
  void ddimTimePairsWithEveryStepVisitsEveryTime() {
    for (int T : new int[] {1, 7, 100, 1000}) {
      NoiseSchedule s = new NoiseSchedule(BetaSchedule.COSINE.betas(T, Map.of()));
      int[][] pairs = s.ddimTimePairs(T);
      assertEquals(T, pairs.length);
      for (int i = 0; i < T; i++) {
        assertArrayEquals(new int[] {T - 1 - i, T - 2 - i}, pairs[i], "T=" + T + " pair " + i);
      }
    }
  }

  @Test
  void ddimTimePairsChainAndEndAtMinusOne() {
    NoiseSchedule s = new NoiseSchedule(BetaSchedule.SIGMOID.betas(1000, Map.of()));
    for (int steps : new int[] {1, 3, 7, 50, 250, 999}) {
      int[][] pairs = s.ddimTimePairs(steps);
      assertEquals(steps, pairs.length);
      assertEquals(999, pairs[0][0], "starts at T-1");
      assertEquals(-1, pairs[steps - 1][1], "ends at -1");
      for (int i = 0; i < steps; i++) {
        if (i > 0) {
          assertEquals(pairs[i - 1][1], pairs[i][0], "chained");
        }
        // int(linspace(-1, T-1, steps+1)) reversed: element k from the end is trunc(-1 + k*T/steps)
        // (these step counts have no float32 rounding subtleties; see ddimTimePairsFollowTorchFloat32Linspace)
        int k = steps - i;
        assertEquals((int) Math.floor(-1 + (double) k * 1000 / steps + 1e-9), pairs[i][0], "steps=" + steps + " pair " + i);
        assertEquals(true, pairs[i][0] > pairs[i][1], "strictly decreasing");
      }
    }
    assertArrayEquals(new int[][] {{999, -1}}, s.ddimTimePairs(1));
    assertThrows(IllegalArgumentException.class, () -> s.ddimTimePairs(0));
    assertThrows(IllegalArgumentException.class, () -> s.ddimTimePairs(1001));
  }

  /** The pairs the reference itself used (gaussian*_ddim/ddim_times.json: T = 100, 5 steps). */
  @Test
  void ddimTimePairsOfTheReferenceFixtures() throws java.io.IOException {
    for (String c : List.of("gaussian2d_ddim", "gaussian1d_ddim")) {
      java.nio.file.Path dir = java.nio.file.Path.of("src/test/resources/reference", c);
      var json = com.google.gson.JsonParser.parseString(
          java.nio.file.Files.readString(dir.resolve("ddim_times.json"))).getAsJsonObject();
      var arr = json.getAsJsonArray("time_pairs");
      int[][] expected = new int[arr.size()][2];
      for (int i = 0; i < expected.length; i++) {
        expected[i][0] = arr.get(i).getAsJsonArray().get(0).getAsInt();
        expected[i][1] = arr.get(i).getAsJsonArray().get(1).getAsInt();
      }
      NoiseSchedule s = GaussianDiffusionConfig.fromJson(new io.diffusion4j.io.JsonOptions("diffusion",
          com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(dir.resolve("config.json")))
              .getAsJsonObject().getAsJsonObject("diffusion")), c.contains("1d") ? 1 : 2, GaussianDiffusionConfig.Module.PLAIN).schedule();
      assertArrayEquals(expected, s.ddimTimePairs(5), c);
    }
  }

  /**
   * torch.linspace(-1, T-1, steps+1) on CPU in float32, as ATen's linspace_kernel computes it:
   * step = (end - start) / (steps) in float32, the first half as start + step*i and the second half as
   * end - step*(n-1-i), each rounded to float32; then .int() truncates toward zero. The result is
   * the same with or without fused multiply-add for the cases used below.
   */
  static int[] torchLinspaceInt(int T, int steps) {
    int n = steps + 1;
    float start = -1f;
    float end = T - 1;
    float step = (end - start) / (float) (n - 1);
    int half = n / 2;
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      float v = i < half ? start + step * (float) i : end - step * (float) (n - 1 - i);
      out[i] = (int) v;
    }
    return out;
  }

  /**
   * Fails on main code: NoiseSchedule.ddimTimePairs computes -1 + T*i/steps exactly in double and
   * only then rounds to float, but torch's float32 linspace accumulates the rounded step, so where
   * the exact value is an integer torch can land just below it and .int() gives one less. For
   * T = 100, sampling_timesteps = 90 the reference visits t = 48 where diffusion4j visits 49; for
   * T = 1000 this happens for sampling_timesteps 26, 52, 60, 104, 120, 180, ... (not for 50, 100,
   * 250, 500).
   */
  @Test
  void ddimTimePairsFollowTorchFloat32Linspace() {
    for (int[] c : new int[][] {{100, 90}, {1000, 60}, {1000, 120}, {250, 26}, {1000, 50}, {1000, 250}}) {
      int T = c[0];
      int steps = c[1];
      int[] times = torchLinspaceInt(T, steps);
      int[][] expected = new int[steps][2];
      for (int i = 0; i < steps; i++) {
        // reversed
        expected[i][0] = times[steps - i];
        expected[i][1] = times[steps - i - 1];
      }
      NoiseSchedule s = new NoiseSchedule(BetaSchedule.COSINE.betas(T, Map.of()));
      int[][] actual = s.ddimTimePairs(steps);
      for (int i = 0; i < steps; i++) {
        assertArrayEquals(expected[i], actual[i], "T=" + T + " steps=" + steps + " pair " + i);
      }
    }
  }
}
