package io.diffusion4j.diffusion;

import static io.diffusion4j.diffusion.TinyModels.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Gaussian diffusion as a denoiser in the sigma view: its noise levels, its timesteps, its estimate of x0. */
class SigmaViewTest {
  private static final int T = 30;

  /** sigma_t = sqrt((1 - abar_t) / abar_t); the own schedule is the DDIM timesteps' sigmas, then 0. */
  @Test
  void sigmasAreTheSchedulesAndTheOwnScheduleIsDdims() {
    GaussianDiffusionConfig cfg = GaussianDiffusionConfig.builder(4, 4).timesteps(T).build();
    try (DiffusionModel m = DiffusionModel.create(new ModelConfig(TinyModels.unet2d(1, false), cfg), 1)) {
      GaussianDiffusion d = (GaussianDiffusion) m.diffusion().orElseThrow();
      double[] abar = d.schedule().alphasCumprod;
      double[] sigmas = d.sigmas();
      for (int t = 0; t < T; t++) {
        assertEquals(Math.sqrt((1 - abar[t]) / abar[t]), sigmas[t], 1e-12);
      }
      assertEquals(sigmas[0], d.sigmaMin(), 0);
      assertEquals(sigmas[T - 1], d.sigmaMax(), 0);
      double[] own = d.ownSigmas(5);
      int[][] pairs = d.schedule().ddimTimePairs(5);
      assertEquals(6, own.length);
      for (int i = 0; i < 5; i++) {
        assertEquals(sigmas[pairs[i][0]], own[i], 0);
      }
      assertEquals(0, own[5], 0);
      assertEquals(Math.sqrt(1 + 4.0), d.startScale(2), 1e-12, "x_T itself is the standard-normal draw");
    }
  }

  /** A schedule sigma maps to its integer timestep exactly; between two, t interpolates in log sigma. */
  @Test
  void timestepsOfSigmasAreExactOnTheScheduleAndLogLinearBetween() {
    GaussianDiffusionConfig cfg = GaussianDiffusionConfig.builder(4, 4).timesteps(T).build();
    try (DiffusionModel m = DiffusionModel.create(new ModelConfig(TinyModels.unet2d(1, false), cfg), 1)) {
      GaussianDiffusion d = (GaussianDiffusion) m.diffusion().orElseThrow();
      Ops tf = m.ops().withSubScope("time_of");
      double[] sigmas = d.sigmas();
      float[] probes = new float[2 * T - 1];
      for (int t = 0; t < T; t++) {
        probes[t] = (float) sigmas[t];
      }
      for (int t = 0; t < T - 1; t++) {
        probes[T + t] = (float) Math.exp((Math.log(sigmas[t]) + Math.log(sigmas[t + 1])) / 2);
      }
      @SuppressWarnings("unchecked")
      Operand<TFloat32>[] times = new Operand[probes.length];
      for (int i = 0; i < probes.length; i++) {
        times[i] = d.timeOf(tf, tf.constant(probes[i]));
      }
      FloatArray[] r = TinyModels.run(m.session(), times);
      for (int t = 0; t < T; t++) {
        assertEquals(t, r[t].data()[0], 0, "sigma_" + t);
      }
      for (int t = 0; t < T - 1; t++) {
        assertEquals(t + 0.5, r[T + t].data()[0], 1e-4, "between " + t + " and " + (t + 1));
      }
    }
  }

  /**
   * At a schedule sigma, D(x; sigma_t) on x = x_t sqrt(1 + sigma_t^2) is the clamped x0 that the
   * reference's model_predictions gives at timestep t, for every objective.
   */
  @Test
  void theEstimateIsTheReferencesClampedX0() {
    for (Objective objective : Objective.values()) {
      GaussianDiffusionConfig cfg = GaussianDiffusionConfig.builder(4, 4).timesteps(T).objective(objective).build();
      try (DiffusionModel m = DiffusionModel.create(new ModelConfig(TinyModels.unet2d(1, false), cfg), 2)) {
        GaussianDiffusion d = (GaussianDiffusion) m.diffusion().orElseThrow();
        Ops tf = m.ops().withSubScope("estimate");
        int t = 17;
        float sigma = (float) d.sigmas()[t];
        FloatArray xt = TinyModels.normal(3, 1.5, 2, 4, 4, 1);
        Operand<TFloat32> x = TinyModels.constant(tf, xt);
        Operand<TFloat32> sigmaView = d.denoise(tf, tf.math.mul(x, tf.constant((float) Math.sqrt(1.0 + sigma * sigma))),
            tf.constant(sigma), Conditioning.NONE, true);
        Operand<TFloat32> reference = d.predictions(tf, x, tf.constant(new int[] {t, t}), null, true, true,
            Forward.inference()).xStart();
        FloatArray[] r = TinyModels.run(m.session(), sigmaView, reference);
        assertAllClose(r[1].data(), r[0].data(), 2e-5, objective.toString());
      }
    }
  }
}
