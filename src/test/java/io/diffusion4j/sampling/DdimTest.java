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
import io.diffusion4j.sampling.solvers.Ddim;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DDIM and DDPM on Gaussian diffusion: determinism at eta 0, seeded noise at eta > 0, the sigma
 * view's coefficients against Song et al.'s and Ho et al.'s formulas, and the loop against a
 * re-implementation in Java from single network evaluations.
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

  private static Settings ddim(double eta, long seed) {
    return Settings.of(model.sampler().denoiser(), Solvers.named("ddim"), STEPS, null, eta, null, seed);
  }

  // ---- determinism ---------------------------------------------------------------------------

  @Test
  void etaZeroIsDeterministicWhateverTheSeed() {
    DiffusionSampler sampler = model.sampler();
    FloatArray noise = sampler.initialNoise(2, 3);
    // bitwise: a noise std of 0 multiplies the seeded noise away exactly
    assertEquals(sampler.sample(ddim(0, 1), noise, null), sampler.sample(ddim(0, 987654321L), noise, null));
  }

  @Test
  void etaPositiveIsSeeded() {
    DiffusionSampler sampler = model.sampler();
    FloatArray noise = sampler.initialNoise(2, 3);
    FloatArray a = sampler.sample(ddim(0.7, 1), noise, null);
    assertEquals(a, sampler.sample(ddim(0.7, 1), noise, null), "same seed, same samples");
    assertNotEquals(a, sampler.sample(ddim(0.7, 2), noise, null), "another seed, other samples");
  }

  @Test
  void ddpmIsSeededAndTakesEveryTimestep() {
    DiffusionSampler sampler = model.sampler();
    FloatArray noise = sampler.initialNoise(1, 8);
    Settings ddpm = Settings.of(sampler.denoiser(), Solvers.named("ddpm"), STEPS, null, null, null, 4);
    assertEquals(T, ddpm.solver().steps(sampler.denoiser(), STEPS));
    assertEquals(sampler.sample(ddpm, noise, null), sampler.sample(ddpm, noise, null));
    assertNotEquals(sampler.sample(ddpm, noise, null), sampler.sample(ddpm.withSeed(5), noise, null));
    // DDIM through every timestep at eta 1 is DDPM
    Settings all = Settings.of(sampler.denoiser(), Solvers.named("ddim"), T, null, 1.0, null, 4);
    assertAllClose(sampler.sample(ddpm, noise, null).data(), sampler.sample(all, noise, null).data(), 1e-6,
        "DDIM(steps = T, eta = 1) vs DDPM");
  }

  @Test
  void initialNoiseIsAPureFunctionOfTheSeed() {
    DiffusionSampler sampler = model.sampler();
    FloatArray a = sampler.initialNoise(3, 10);
    assertEquals(a, sampler.initialNoise(3, 10));
    assertNotEquals(a, sampler.initialNoise(3, 11));
    assertArrayEquals(new long[] {3, 4, 4, 2}, a.shape());
  }

  /** Both end on a clamped x0 estimate: the output is in [0, 1] after unnormalising. */
  @Test
  void samplesAreInTheDataRange() {
    DiffusionSampler sampler = model.sampler();
    FloatArray noise = sampler.initialNoise(2, 3);
    for (FloatArray s : List.of(sampler.sample(ddim(0.3, 1), noise, null),
        sampler.sample(Settings.of(sampler.denoiser(), Solvers.named("ddpm"), null, null, null, null, 1), noise, null))) {
      for (float v : s.data()) {
        assertTrue(v >= 0f && v <= 1f, "sample value " + v + " outside [0, 1]");
      }
    }
  }

  // ---- the sigma view's coefficients against the papers' formulas ---------------------------

  /**
   * In the sigma view x = x_t sqrt(1 + sigma_t^2), and a DDIM step from sigma_t to sigma_next is
   * x_next = x0 + sigma_down eps + noise_std z with eps = (x - x0) / sigma_t. Back in x_t's scale
   * that must be Song et al.'s Eq. 12, sqrt(abar_next) x0 + sqrt(1 - abar_next - s^2) eps + s z
   * with s = eta sqrt((1 - abar / abar_next) (1 - abar_next) / (1 - abar)), for any x_t and x0.
   */
  @Test
  void ddimCoefficientsAreSongEtAlsStep() {
    GaussianDiffusion d = (GaussianDiffusion) model.diffusion().orElseThrow();
    double[] sigmas = d.ownSigmas(STEPS);
    int[][] pairs = d.schedule().ddimTimePairs(STEPS);
    for (double eta : new double[] {0, 0.5, 1}) {
      List<Ddim.Coefficients> plan = new Ddim().plan(sigmas, Settings.of(d, Solvers.named("ddim"), STEPS, null, eta,
          null, 0));
      for (int i = 0; i < plan.size() - 1; i++) {
        double a = d.schedule().alphasCumprod[pairs[i][0]];
        double an = d.schedule().alphasCumprod[pairs[i][1]];
        double xt = 0.7;
        double x0 = -0.4;
        double z = 1.3;
        double s = eta * Math.sqrt((1 - a / an) * (1 - an) / (1 - a));
        double epsVp = (xt - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
        double expected = Math.sqrt(an) * x0 + Math.sqrt(1 - an - s * s) * epsVp + s * z;
        Ddim.Coefficients c = plan.get(i);
        double x = xt * Math.sqrt(1 + sigmas[i] * sigmas[i]);
        double next = x0 + c.sigmaDown().number() * (x - x0) / c.sigma().number() + c.noiseStd().number() * z;
        assertEquals(expected, next / Math.sqrt(1 + sigmas[i + 1] * sigmas[i + 1]), 1e-12, "eta " + eta + ", step " + i);
      }
    }
  }

  /**
   * Through every timestep at eta 1 the step is DDPM's posterior sample (Ho et al., Eq. 7):
   * coef1 x0 + coef2 x_t + sqrt(posterior variance) z, and at t = 0 the clamped x0 itself.
   */
  @Test
  void ddpmCoefficientsAreThePosteriorSample() {
    GaussianDiffusion d = (GaussianDiffusion) model.diffusion().orElseThrow();
    NoiseSchedule s = d.schedule();
    double[] sigmas = d.ownSigmas(T);
    List<Ddim.Coefficients> plan = new Ddim().plan(sigmas, Settings.of(d, Solvers.named("ddpm"), T, null, 1.0, null, 0));
    assertEquals(T, plan.size());
    for (int i = 0; i < T; i++) {
      int t = T - 1 - i;
      Ddim.Coefficients c = plan.get(i);
      double xt = -0.9;
      double x0 = 0.35;
      double z = 0.6;
      double x = xt * Math.sqrt(1 + sigmas[i] * sigmas[i]);
      double next = x0 + c.sigmaDown().number() * (x - x0) / c.sigma().number() + c.noiseStd().number() * z;
      double vp = next / Math.sqrt(1 + sigmas[i + 1] * sigmas[i + 1]);
      double expected = t == 0 ? x0
          : s.posteriorMeanCoef1[t] * x0 + s.posteriorMeanCoef2[t] * xt + Math.sqrt(s.posteriorVariance[t]) * z;
      assertEquals(expected, vp, 1e-10, "t = " + t);
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
      DiffusionSampler sampler = m.sampler();
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
          double start = s.sqrtRecipAlphasCumprod[t] * x[i] - s.sqrtRecipm1AlphasCumprod[t] * out.data()[i];
          x0[i] = (float) Math.max(-1, Math.min(1, start));
          eps[i] = (float) ((s.sqrtRecipAlphasCumprod[t] * x[i] - x0[i]) / s.sqrtRecipm1AlphasCumprod[t]);
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
