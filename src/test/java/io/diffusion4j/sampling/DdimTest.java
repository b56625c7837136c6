package io.diffusion4j.sampling;

import static io.diffusion4j.diffusion.TinyModels.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.BetaSchedule;
import io.diffusion4j.diffusion.GaussianDiffusion;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.diffusion.NoiseSchedule;
import io.diffusion4j.diffusion.Objective;
import io.diffusion4j.diffusion.TinyModels;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * DDIM: determinism at eta = 0, seeded randomness at eta > 0, the step's identity with the DDPM
 * posterior at eta = 1, and the sampling loop against a re-implementation in Java.
 */
class DdimTest {
  private static final int T = 20;
  private static final int STEPS = 5;
  private static DiffusionModel model;

  @BeforeAll
  static void createModel() {
    GaussianDiffusionConfig cfg = GaussianDiffusionConfig.builder(4, 4).timesteps(T).samplingTimesteps(STEPS)
        .objective(Objective.PRED_V).betaSchedule(BetaSchedule.COSINE).build();
    model = DiffusionModel.create(new ModelConfig(TinyModels.unet2d(2, false), cfg), 5);
  }

  @AfterAll
  static void closeModel() {
    model.close();
  }

  // ---- determinism ---------------------------------------------------------------------------

  @Test
  void etaZeroIsDeterministicWhateverTheSeed() {
    GaussianSampler sampler = (GaussianSampler) model.sampler();
    FloatArray noise = sampler.initialNoise(2, 3);
    FloatArray a = sampler.sample(Sampler.DDIM, noise, 1, STEPS, 0.0, null);
    FloatArray b = sampler.sample(Sampler.DDIM, noise, 987654321L, STEPS, 0.0, null);
    // bitwise: sigma = 0 multiplies the seeded noise away exactly
    assertEquals(a, b, "DDIM eta=0 with the same start noise and different seeds");
    assertArrayEquals(new long[] {2, 4, 4, 2}, a.shape());
    // and the config's default sampler (sampling_timesteps < timesteps, eta 0) is that DDIM
    assertEquals(a, sampler.sample(noise, 42));
  }

  @Test
  void etaPositiveIsSeeded() {
    GaussianSampler sampler = (GaussianSampler) model.sampler();
    FloatArray noise = sampler.initialNoise(2, 3);
    FloatArray a = sampler.sample(Sampler.DDIM, noise, 1, STEPS, 0.7, null);
    FloatArray again = sampler.sample(Sampler.DDIM, noise, 1, STEPS, 0.7, null);
    FloatArray other = sampler.sample(Sampler.DDIM, noise, 2, STEPS, 0.7, null);
    assertEquals(a, again, "same seed, same samples");
    assertNotEquals(a, other, "another seed, other samples");
    FloatArray deterministic = sampler.sample(Sampler.DDIM, noise, 1, STEPS, 0.0, null);
    assertNotEquals(a, deterministic, "eta > 0 adds noise");
  }

  @Test
  void ddpmIsSeeded() {
    GaussianSampler sampler = (GaussianSampler) model.sampler();
    FloatArray noise = sampler.initialNoise(1, 8);
    FloatArray a = sampler.sample(Sampler.DDPM, noise, 4, 0, 0, null);
    assertEquals(a, sampler.sample(Sampler.DDPM, noise, 4, 0, 0, null));
    assertNotEquals(a, sampler.sample(Sampler.DDPM, noise, 5, 0, 0, null));
  }

  @Test
  void initialNoiseIsAPureFunctionOfTheSeed() {
    GaussianSampler sampler = (GaussianSampler) model.sampler();
    FloatArray a = sampler.initialNoise(3, 10);
    assertEquals(a, sampler.initialNoise(3, 10));
    assertNotEquals(a, sampler.initialNoise(3, 11));
    assertArrayEquals(new long[] {3, 4, 4, 2}, a.shape());
  }

  /** Both samplers end on a clamped x0 estimate: the output is in [0, 1] after unnormalising. */
  @Test
  void samplesAreInTheDataRangeAndEveryStepIsRecorded() {
    GaussianSampler sampler = (GaussianSampler) model.sampler();
    FloatArray noise = sampler.initialNoise(2, 3);
    List<FloatArray> steps = new ArrayList<>();
    FloatArray ddim = sampler.sample(Sampler.DDIM, noise, 1, STEPS, 0.3, steps);
    assertEquals(STEPS + 1, steps.size(), "the start noise and one sample per step");
    assertEquals(ddim, steps.get(STEPS));
    float[] start = steps.get(0).data();
    for (int i = 0; i < start.length; i++) {
      assertEquals((noise.data()[i] + 1) * 0.5f, start[i], 1e-6f, "first recorded step is the unnormalised noise");
    }
    List<FloatArray> ddpmSteps = new ArrayList<>();
    FloatArray ddpm = sampler.sample(Sampler.DDPM, noise, 1, 0, 0, ddpmSteps);
    assertEquals(T + 1, ddpmSteps.size());
    for (FloatArray s : List.of(ddim, ddpm)) {
      for (float v : s.data()) {
        assertTrue(v >= 0f && v <= 1f, "sample value " + v + " outside [0, 1]");
      }
    }
  }

  // ---- DDIM at eta = 1 is the DDPM posterior -------------------------------------------------

  /**
   * For t_next = t - 1 the DDIM update with eta = 1 has
   *   sigma^2 = (1 - abar_t/abar_{t-1}) (1 - abar_{t-1}) / (1 - abar_t) = beta_t (1 - abar_{t-1}) / (1 - abar_t),
   * the posterior variance, and with eps = (x_t - sqrt(abar_t) x0) / sqrt(1 - abar_t) (the noise
   * consistent with x0 and x_t)
   *   sqrt(abar_{t-1}) x0 + sqrt(1 - abar_{t-1} - sigma^2) eps = coef1 x0 + coef2 x_t,
   * because sqrt(1 - abar_{t-1} - sigma^2) / sqrt(1 - abar_t) = (1 - abar_{t-1}) sqrt(alpha_t) / (1 - abar_t) = coef2
   * and sqrt(abar_{t-1}) - coef2 sqrt(abar_t) = sqrt(abar_{t-1}) beta_t / (1 - abar_t) = coef1.
   *
   * Clipping does not break the identity: DDPM clamps x0 and uses the clamped x0 in the posterior
   * mean; DDIM clamps x0 the same way and re-derives eps from the clamped x0 and x_t, which is exactly
   * the "eps consistent with x0 and x_t" above. So any network and any x_t will do, and the
   * identity holds with the seeded noise term too (sigma z = sqrt(posterior variance) z =
   * exp(0.5 log var) z for t > 0). Checked for every t = 1..T-1 at once, for every objective.
   */
  @Test
  void ddimWithEtaOneIsTheDdpmStep() {
    Ops tf = model.ops().withSubScope("identity");
    int n = T - 1;
    int[] times = new int[n];
    int[] next = new int[n];
    for (int i = 0; i < n; i++) {
      times[i] = i + 1;
      next[i] = i;
    }
    long[] shape = {n, 4, 4, 2};
    // x_t of unit scale, plus one example per t; scaled up so that x0 gets clamped somewhere
    Operand<TFloat32> x = TinyModels.constant(tf, TinyModels.normal(21, 1.5, shape));
    Operand<TFloat32> zeros = tf.zeros(tf.constant(shape), TFloat32.class);
    Operand<TFloat32> z = TinyModels.constant(tf, TinyModels.normal(22, 1, shape));
    Operand<TInt32> t = tf.constant(times);
    Operand<TInt32> tNext = tf.constant(next);
    Operand<TFloat32> one = tf.constant(1f);
    for (Objective objective : Objective.values()) {
      GaussianDiffusion d = new GaussianDiffusion(model.network(),
          GaussianDiffusionConfig.builder(4, 4).timesteps(T).objective(objective).betaSchedule(BetaSchedule.COSINE).build());
      GaussianSteps.Step ddpm0 = GaussianSteps.ddpm(tf, d, x, t, null, null, zeros);
      GaussianSteps.Step ddim0 = GaussianSteps.ddim(tf, d, x, t, tNext, one, null, null, zeros);
      GaussianSteps.Step ddpmZ = GaussianSteps.ddpm(tf, d, x, t, null, null, z);
      GaussianSteps.Step ddimZ = GaussianSteps.ddim(tf, d, x, t, tNext, one, null, null, z);
      FloatArray[] r = TinyModels.run(model.session(), ddpm0.next(), ddim0.next(), ddpmZ.next(), ddimZ.next(),
          ddpm0.xStart(), ddim0.xStart());
      assertAllClose(r[0].data(), r[1].data(), 1e-5, objective + ": DDIM(eta=1, t-1) mean == DDPM posterior mean");
      assertAllClose(r[2].data(), r[3].data(), 1e-5, objective + ": DDIM(eta=1, t-1) == DDPM step with the same noise");
      assertAllClose(r[4].data(), r[5].data(), 0, objective + ": same clamped x0");
      int clamped = 0;
      for (float v : r[4].data()) {
        clamped += Math.abs(v) == 1f ? 1 : 0;
      }
      // the test covers clamped and unclamped elements alike
      assertTrue(clamped > 0 && clamped < r[4].data().length, objective + ": " + clamped + " clamped elements");
    }
  }

  /** End to end: the DDIM sampler with every timestep and eta = 1 reproduces the DDPM sampler. */
  @Test
  void ddimSamplerWithAllStepsAndEtaOneIsDdpmSampler() {
    GaussianSampler sampler = (GaussianSampler) model.sampler();
    FloatArray noise = sampler.initialNoise(2, 17);
    FloatArray ddim = sampler.sample(Sampler.DDIM, noise, 9, T, 1.0, null);
    FloatArray ddpm = sampler.sample(Sampler.DDPM, noise, 9, 0, 0, null);
    // both draw step t's noise from (seed, t); float32 differences of ~1e-6 per step over 20 steps
    assertAllClose(ddpm.data(), ddim.data(), 1e-4, "DDIM(steps=T, eta=1) vs DDPM");
  }

  // ---- the step formulas against Java ---------------------------------------------------------

  /** next = sqrt(abar_next) x0 + sqrt(1 - abar_next - sigma^2) eps + sigma z, eps re-derived from the clamped x0. */
  @Test
  void ddimStepFollowsSongEtAl() {
    Ops tf = model.ops().withSubScope("ddim_formula");
    GaussianDiffusion d = (GaussianDiffusion) model.diffusion().orElseThrow();
    NoiseSchedule s = d.schedule();
    int[] times = {19, 15, 11, 7, 3};
    int[] next = {15, 11, 7, 3, 0};
    long[] shape = {times.length, 4, 4, 2};
    FloatArray xa = TinyModels.normal(31, 1, shape);
    FloatArray za = TinyModels.normal(32, 1, shape);
    for (float eta : new float[] {0f, 0.5f, 1f}) {
      GaussianSteps.Step step = GaussianSteps.ddim(tf, d, TinyModels.constant(tf, xa), tf.constant(times),
          tf.constant(next), tf.constant(eta), null, null, TinyModels.constant(tf, za));
      FloatArray[] r = TinyModels.run(model.session(), step.next(), step.xStart());
      int per = TinyModels.perExample(xa);
      float[] expected = new float[xa.data().length];
      for (int i = 0; i < expected.length; i++) {
        int tn = times[i / per];
        int tm = next[i / per];
        double a = (float) s.alphasCumprod[tn];
        double an = (float) s.alphasCumprod[tm];
        double x0 = r[1].data()[i];
        assertTrue(Math.abs(x0) <= 1, "x0 clamped");
        double eps = ((float) s.sqrtRecipAlphasCumprod[tn] * xa.data()[i] - x0) / (float) s.sqrtRecipm1AlphasCumprod[tn];
        double sigma = eta * Math.sqrt((1 - a / an) * (1 - an) / (1 - a));
        double c = Math.sqrt(1 - an - sigma * sigma);
        expected[i] = (float) (x0 * Math.sqrt(an) + c * eps + sigma * za.data()[i]);
      }
      assertAllClose(expected, r[0].data(), 2e-5, "DDIM step eta=" + eta);
    }
  }

  /** next = coef1 x0 + coef2 x_t + exp(0.5 log var) z, with no noise at t = 0. */
  @Test
  void ddpmStepIsThePosteriorSample() {
    Ops tf = model.ops().withSubScope("ddpm_formula");
    GaussianDiffusion d = (GaussianDiffusion) model.diffusion().orElseThrow();
    NoiseSchedule s = d.schedule();
    int[] times = {19, 10, 1, 0};
    long[] shape = {times.length, 4, 4, 2};
    FloatArray xa = TinyModels.normal(41, 1, shape);
    FloatArray za = TinyModels.normal(42, 1, shape);
    GaussianSteps.Step step = GaussianSteps.ddpm(tf, d, TinyModels.constant(tf, xa), tf.constant(times), null, null,
        TinyModels.constant(tf, za));
    FloatArray[] r = TinyModels.run(model.session(), step.next(), step.xStart());
    int per = TinyModels.perExample(xa);
    float[] expected = new float[xa.data().length];
    for (int i = 0; i < expected.length; i++) {
      int tn = times[i / per];
      double x0 = r[1].data()[i];
      assertTrue(Math.abs(x0) <= 1, "x0 clamped");
      double std = tn > 0 ? Math.sqrt(s.posteriorVariance[tn]) : 0;
      expected[i] = (float) ((float) s.posteriorMeanCoef1[tn] * x0 + (float) s.posteriorMeanCoef2[tn] * xa.data()[i]
          + std * za.data()[i]);
    }
    assertAllClose(expected, r[0].data(), 1e-5, "DDPM step");
    // at t = 0 the step returns the clamped x0 itself
    for (int i = 3 * per; i < 4 * per; i++) {
      assertEquals(r[1].data()[i], r[0].data()[i], 1e-6, "t = 0 gives x0");
    }
  }

  // ---- the loop against a re-implementation --------------------------------------------------

  /**
   * The DDIM loop (eta = 0) re-done in Java from single network evaluations: time pairs from
   * ddimTimePairs, the previous x0 estimate fed back as self-conditioning, the last step returning
   * the clamped x0, and the result unnormalised. Run for a self-conditioned pred_noise Unet1D.
   */
  @Test
  void ddimLoopMatchesJavaReimplementation() {
    UnetConfig unet = TinyModels.unet1d(2, true);
    GaussianDiffusionConfig cfg = GaussianDiffusionConfig.builder1d(8).timesteps(T).samplingTimesteps(4)
        .objective(Objective.PRED_NOISE).betaSchedule(BetaSchedule.SIGMOID).build();
    try (DiffusionModel m = DiffusionModel.create(new ModelConfig(unet, cfg), 77)) {
      GaussianSampler sampler = (GaussianSampler) m.sampler();
      FloatArray noise = sampler.initialNoise(2, 5);
      FloatArray actual = sampler.sample(noise, 123);
      NoiseSchedule s = ((GaussianDiffusion) m.diffusion().orElseThrow()).schedule();
      int[][] pairs = s.ddimTimePairs(4);
      assertArrayEquals(new int[][] {{19, 14}, {14, 9}, {9, 4}, {4, -1}}, pairs);
      float[] x = noise.data().clone();
      FloatArray selfCond = null;
      for (int[] p : pairs) {
        int t = p[0];
        FloatArray out = m.forward(new FloatArray(noise.shape(), x), new float[] {t, t}, selfCond);
        float[] x0 = new float[x.length];
        float[] eps = new float[x.length];
        for (int i = 0; i < x.length; i++) {
          double start = (float) s.sqrtRecipAlphasCumprod[t] * (double) x[i] - (float) s.sqrtRecipm1AlphasCumprod[t] * (double) out.data()[i];
          x0[i] = (float) Math.max(-1, Math.min(1, start));
          eps[i] = (float) (((float) s.sqrtRecipAlphasCumprod[t] * (double) x[i] - x0[i]) / (float) s.sqrtRecipm1AlphasCumprod[t]);
        }
        selfCond = new FloatArray(noise.shape(), x0);
        if (p[1] < 0) {
          x = x0;
          continue;
        }
        double an = s.alphasCumprod[p[1]];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) (x0[i] * Math.sqrt(an) + Math.sqrt(1 - an) * eps[i]);
        }
      }
      float[] expected = new float[x.length];
      for (int i = 0; i < x.length; i++) {
        expected[i] = (x[i] + 1) * 0.5f;
      }
      assertAllClose(expected, actual.data(), 1e-4, "DDIM loop vs Java");
      assertFalse(java.util.Arrays.equals(expected, new float[expected.length]), "non-trivial samples");
    }
  }
}
