package io.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.ElucidatedDiffusion;
import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.models.Network;
import io.diffusion4j.models.Unet;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.op.Ops;
import java.util.List;

/** ElucidatedDiffusion against the formulas of Karras et al. 2022 and an analytic denoiser. */
class EdmTest {
  static final ElucidatedDiffusionConfig SEQ = ElucidatedDiffusionConfig.builder(8).channels(1).build();

  static ElucidatedDiffusion edm(Ops tf, ElucidatedDiffusionConfig c) {
    return new ElucidatedDiffusion(
        Unet.create(tf, UnetConfig.builder1d(8).dimMults(List.of(1, 2)).channels(1).learnedSinusoidalCond(true).build()), c);
  }

  /** EDM Table 1 with sigma_data = 0.5, at several sigmas. */
  @Test
  void preconditioningFollowsTable1() {
    try (Graph g = new Graph()) {
      ElucidatedDiffusion d = edm(Ops.create(g), SEQ);
      for (double s : new double[] {0.002, 0.1, 0.5, 2, 80}) {
        double sd = 0.5;
        assertEquals(sd * sd / (s * s + sd * sd), d.cSkip(s), 1e-12);
        assertEquals(s * sd / Math.sqrt(s * s + sd * sd), d.cOut(s), 1e-12);
        assertEquals(1 / Math.sqrt(s * s + sd * sd), d.cIn(s), 1e-12);
        assertEquals(0.25 * Math.log(s), d.cNoise(s), 1e-12);
        assertEquals((s * s + sd * sd) / (s * s * sd * sd), d.lossWeight(s), 1e-9 * d.lossWeight(s));
        // the weight makes the effective target variance one: lambda c_out^2 = 1
        assertEquals(1, d.lossWeight(s) * d.cOut(s) * d.cOut(s), 1e-12);
      }
      assertEquals(0.5, d.cSkip(0.5), 1e-12);
      assertEquals(8, d.lossWeight(0.5), 1e-12);
    }
  }

  /** Eq. 5: sigma_max first, sigma_min last, then 0, evenly spaced in sigma^(1/rho). */
  @Test
  void sigmaScheduleHasTheRightEndsAndCurvature() {
    try (Graph g = new Graph()) {
      ElucidatedDiffusion d = edm(Ops.create(g), SEQ);
      double[] s = d.sampleSchedule(18);
      assertEquals(19, s.length);
      assertEquals(80, s[0], 1e-9);
      assertEquals(0.002, s[17], 1e-12);
      assertEquals(0, s[18], 0);
      double step = Math.pow(s[1], 1 / 7.0) - Math.pow(s[0], 1 / 7.0);
      for (int i = 1; i < 18; i++) {
        assertEquals(step, Math.pow(s[i], 1 / 7.0) - Math.pow(s[i - 1], 1 / 7.0), 1e-12, "rho spacing at " + i);
        assertTrue(s[i] < s[i - 1]);
      }
      // rho 7 crowds the steps at low noise: the last gap is far smaller than the first
      assertTrue(s[0] - s[1] > 1000 * (s[16] - s[17]));
    }
  }

  /** Algorithm 2: gamma = min(S_churn / N, sqrt(2) - 1) inside [S_tmin, S_tmax], 0 outside. */
  @Test
  void churnOnlyActsInsideItsRange() {
    try (Graph g = new Graph()) {
      ElucidatedDiffusion d = edm(Ops.create(g), SEQ);
      double[] s = d.sampleSchedule(32);
      double[] gamma = d.churn(s);
      for (int i = 0; i < s.length; i++) {
        boolean inside = s[i] >= 0.05 && s[i] <= 50;
        assertEquals(inside ? Math.min(80.0 / 32, Math.sqrt(2) - 1) : 0, gamma[i], 0, "sigma " + s[i]);
      }
      assertTrue(gamma[0] == 0 && gamma[32] == 0);
    }
  }

  /**
   * With S_churn 0 Heun (and Euler, and DPM-Solver++) are deterministic; with churn, seeds
   * matter only when a noise level falls inside [S_tmin, S_tmax].
   */
  @Test
  void heunWithoutChurnIsDeterministicAndChurnOnlyActsInRange() {
    ModelConfig noChurn = config(ElucidatedDiffusionConfig.builder(8).channels(1).numSampleSteps(6).sChurn(0).build());
    ModelConfig churnOutOfRange = config(ElucidatedDiffusionConfig.builder(8).channels(1).numSampleSteps(6)
        .sTmin(100).sTmax(200).build());
    ModelConfig churn = config(ElucidatedDiffusionConfig.builder(8).channels(1).numSampleSteps(6).build());
    assertArrayEquals(sample(noChurn, "heun", 1), sample(noChurn, "heun", 2));
    assertArrayEquals(sample(noChurn, "euler", 1), sample(noChurn, "euler", 2));
    assertArrayEquals(sample(churn, "dpmpp_2m", 1), sample(churn, "dpmpp_2m", 2));
    assertArrayEquals(sample(churnOutOfRange, "heun", 1), sample(churnOutOfRange, "heun", 2));
    assertArrayEquals(sample(churn, "heun", 1), sample(churn, "heun", 1));
    assertFalse(java.util.Arrays.equals(sample(churn, "heun", 1), sample(churn, "heun", 2)));
  }

  static ModelConfig config(ElucidatedDiffusionConfig c) {
    return new ModelConfig(UnetConfig.builder1d(8).dimMults(List.of(1, 2)).channels(1).learnedSinusoidalCond(true).build(), c);
  }

  /** Samples from fixed start noise with the given step seed. */
  static float[] sample(ModelConfig config, String sampler, long seed) {
    try (DiffusionModel m = DiffusionModel.create(config, 3)) {
      DiffusionSampler s = m.sampler();
      return s.sample(Settings.of(s.denoiser(), Solvers.named(sampler), 6, null, null, null, seed), s.initialNoise(4, 0),
          null).data();
    }
  }

  @Test
  void refusesAUnetWithoutContinuousTime() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Network plain = Unet.create(tf, UnetConfig.builder1d(8).dimMults(List.of(1, 2)).channels(1).build());
      var e = assertThrows(IllegalArgumentException.class, () -> new ElucidatedDiffusion(plain, SEQ));
      assertTrue(e.getMessage().contains("learned_sinusoidal_cond or random_fourier_features"), e.getMessage());
    }
  }
}
