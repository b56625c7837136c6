package io.diffusion4j.diffusion;

import static io.diffusion4j.diffusion.NoiseScheduleTest.assertRel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The per-timestep loss weights (min-SNR-gamma or not) for each objective, and the value of the
 * loss graph against the same loss computed in Java from the network's own output.
 */
class LossWeightTest {

  // ---- the weights ---------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(BetaSchedule.class)
  void weightsFollowTheirDefinitions(BetaSchedule schedule) {
    NoiseSchedule s = new NoiseSchedule(schedule.betas(1000, Map.of()));
    double gamma = 5;
    double[] noiseW = s.lossWeight(Objective.PRED_NOISE, null);
    double[] noiseMin = s.lossWeight(Objective.PRED_NOISE, gamma);
    double[] x0W = s.lossWeight(Objective.PRED_X0, null);
    double[] x0Min = s.lossWeight(Objective.PRED_X0, gamma);
    double[] vW = s.lossWeight(Objective.PRED_V, null);
    double[] vMin = s.lossWeight(Objective.PRED_V, gamma);
    for (int t = 0; t < 1000; t++) {
      double a = s.alphasCumprod[t];
      double snr = a / (1 - a);
      double clipped = Math.min(snr, gamma);
      String at = schedule + " t=" + t;
      assertRel(1, noiseW[t], 1e-12, "pred_noise " + at);
      assertRel(clipped / snr, noiseMin[t], 1e-12, "pred_noise min-SNR " + at);
      assertRel(snr, x0W[t], 1e-12, "pred_x0 " + at);
      assertRel(clipped, x0Min[t], 1e-12, "pred_x0 min-SNR " + at);
      assertRel(snr / (snr + 1), vW[t], 1e-12, "pred_v " + at);
      assertRel(clipped / (snr + 1), vMin[t], 1e-12, "pred_v min-SNR " + at);
      // pred_v without min-SNR weighs by snr/(snr+1) = abar
      assertRel(a, vW[t], 1e-12, "pred_v weight is abar " + at);
    }
    // min-SNR only lowers weights where snr > gamma, i.e. at small t
    assertEquals(gamma / s.snr[0], noiseMin[0], 1e-12);
    assertEquals(1.0, noiseMin[999], 0.0);
  }

  /** The reference's loss_weight buffer for its three fixture configurations. */
  @Test
  void weightsMatchReference() {
    for (ReferenceSchedules.Buffers ref : ReferenceSchedules.buffers()) {
      double[] expected = ref.get("loss_weight");
      // from the reference's float64 betas, so that only the weight formula is under test
      NoiseSchedule s = new NoiseSchedule(ReferenceSchedules.betas(ConfigRecords.configName(ref.betaSchedule())));
      double[] w = s.lossWeight(ref.objective(), ref.minSnrGamma());
      // and through the config path (GaussianDiffusion.lossWeight), which recomputes the betas
      GaussianDiffusionConfig.Builder b = GaussianDiffusionConfig.builder(8, 8).timesteps(ref.timesteps())
          .objective(ref.objective()).betaSchedule(ref.betaSchedule());
      if (ref.minSnrGamma() != null) {
        b.minSnrLossWeight(true).minSnrGamma(ref.minSnrGamma());
      }
      GaussianDiffusionConfig c = b.build();
      double[] viaConfig = c.schedule().lossWeight(c.objective(), c.minSnrLossWeight() ? c.minSnrGamma() : null);
      for (int t = 0; t < expected.length; t++) {
        // float32 buffer: one rounding of a float64 value (2^-24), 1e-6 relative covers it
        assertRel(expected[t], (float) w[t], 1e-6, ref + " loss_weight[" + t + "]");
        assertRel(expected[t], (float) viaConfig[t], 1e-5, ref + " loss_weight[" + t + "] via config");
      }
    }
  }

  // ---- the loss graph ------------------------------------------------------------------------

  private static final int T = 20;
  private static final int[] TIMES = {0, 7, 19};

  /**
   * pLosses == mean_n weight[t_n] * mean((out_n - target_n)^2), where out is the network's output
   * at x_t computed separately (DiffusionModel.forward) and the target is the objective's. One
   * network serves every objective, with and without min-SNR weighting (gamma 2).
   */
  @Test
  void lossGraphIsWeightedMse2d() {
    checkLoss(TinyModels.unet2d(2, false), () -> GaussianDiffusionConfig.builder(4, 4), new long[] {3, 4, 4, 2}, false);
  }

  @Test
  void lossGraphIsWeightedMse1d() {
    checkLoss(TinyModels.unet1d(2, false), () -> GaussianDiffusionConfig.builder1d(8), new long[] {3, 8, 2}, false);
  }

  /** With the self-conditioning step the second run is conditioned on the first run's x0 estimate. */
  @Test
  void lossGraphWithSelfConditioning() {
    checkLoss(TinyModels.unet2d(1, true), () -> GaussianDiffusionConfig.builder(4, 4), new long[] {3, 4, 4, 1}, true);
  }

  private static void checkLoss(UnetConfig unet, java.util.function.Supplier<GaussianDiffusionConfig.Builder> builder,
      long[] shape, boolean selfCondStep) {
    Objective[] objectives = Objective.values();
    // every objective with and without min-SNR; the (twice as large) self-conditioned graphs with min-SNR only
    int variants = selfCondStep ? 1 : 2;
    GaussianDiffusionConfig[] cfgs = new GaussianDiffusionConfig[variants * objectives.length];
    for (int k = 0; k < cfgs.length; k++) {
      cfgs[k] = builder.get().timesteps(T).objective(objectives[k / variants]).betaSchedule(BetaSchedule.COSINE)
          .minSnrLossWeight(selfCondStep || k % 2 == 1).minSnrGamma(2).build();
    }
    try (DiffusionModel m = DiffusionModel.create(new ModelConfig(unet, cfgs[0]), 42)) {
      Ops tf = m.ops();
      FloatArray x0a = TinyModels.uniform(10, -1, 1, shape);
      FloatArray noisea = TinyModels.normal(11, 1, shape);
      Operand<TFloat32> x0 = TinyModels.constant(tf, x0a);
      Operand<TFloat32> noise = TinyModels.constant(tf, noisea);
      Operand<TInt32> t = tf.constant(TIMES);
      GaussianDiffusion[] ds = new GaussianDiffusion[cfgs.length];
      @SuppressWarnings("unchecked")
      Operand<TFloat32>[] fetch = new Operand[cfgs.length + 1];
      for (int k = 0; k < cfgs.length; k++) {
        ds[k] = new GaussianDiffusion(m.network(), cfgs[k]);
        fetch[k] = ds[k].pLosses(tf, x0, t, noise, selfCondStep, Forward.inference());
      }
      fetch[cfgs.length] = ds[0].qSample(tf, x0, t, noise);
      FloatArray[] r = TinyModels.run(m.session(), fetch);
      FloatArray xt = r[cfgs.length];
      float[] time = new float[TIMES.length];
      for (int i = 0; i < time.length; i++) {
        time[i] = TIMES[i];
      }
      // the first run sees zeros as self-conditioning (forward(.., null) on a self-conditioned net)
      FloatArray first = m.forward(xt, time, null);
      NoiseSchedule s = ds[0].schedule();
      for (int k = 0; k < cfgs.length; k++) {
        Objective objective = cfgs[k].objective();
        boolean minSnr = cfgs[k].minSnrLossWeight();
        FloatArray out = selfCondStep ? m.forward(xt, time, startFromOutput(objective, s, xt, first)) : first;
        double[] w = s.lossWeight(objective, minSnr ? 2.0 : null);
        assertArrayEquals(w, ds[k].lossWeight(), 0.0);
        int per = TinyModels.perExample(x0a);
        double expected = 0;
        for (int n = 0; n < TIMES.length; n++) {
          int tn = TIMES[n];
          double sq = 0;
          for (int i = n * per; i < (n + 1) * per; i++) {
            double target = switch (objective) {
              case PRED_NOISE -> noisea.data()[i];
              case PRED_X0 -> x0a.data()[i];
              case PRED_V -> (float) s.sqrtAlphasCumprod[tn] * (double) noisea.data()[i]
                  - (float) s.sqrtOneMinusAlphasCumprod[tn] * (double) x0a.data()[i];
            };
            double diff = out.data()[i] - target;
            sq += diff * diff;
          }
          expected += (float) w[tn] * (sq / per);
        }
        expected /= TIMES.length;
        String what = objective + (minSnr ? " min-SNR" : "") + (selfCondStep ? " self-cond" : "") + " rank "
            + (shape.length - 2);
        // float32 sums of ~100 squares: 1e-5 relative; the self-conditioned case feeds a Java-computed
        // x0 estimate back, which differs from the graph's by float32 rounding: 1e-4
        assertRel(expected, r[k].data()[0], selfCondStep ? 1e-4 : 1e-5, "loss " + what);
        assertEquals(0, r[k].rank(), "scalar loss");
      }
    }
  }

  /** x0 from the raw network output (unclipped), as the self-conditioning step computes it. */
  private static FloatArray startFromOutput(Objective objective, NoiseSchedule s, FloatArray xt, FloatArray out) {
    int per = TinyModels.perExample(xt);
    float[] x0 = new float[xt.data().length];
    for (int i = 0; i < x0.length; i++) {
      int tn = TIMES[i / per];
      double x = xt.data()[i];
      double o = out.data()[i];
      x0[i] = (float) switch (objective) {
        case PRED_NOISE -> (float) s.sqrtRecipAlphasCumprod[tn] * x - (float) s.sqrtRecipm1AlphasCumprod[tn] * o;
        case PRED_X0 -> o;
        case PRED_V -> (float) s.sqrtAlphasCumprod[tn] * x - (float) s.sqrtOneMinusAlphasCumprod[tn] * o;
      };
    }
    return new FloatArray(xt.shape(), x0);
  }

  /** The training loss normalises [0, 1] data and draws t and noise from the seed: same seed, same loss. */
  @Test
  void trainingLossIsAPureFunctionOfTheSeed() {
    GaussianDiffusionConfig cfg = GaussianDiffusionConfig.builder(4, 4).timesteps(T).offsetNoiseStrength(0.1).build();
    try (DiffusionModel m = DiffusionModel.create(new ModelConfig(TinyModels.unet2d(1, false), cfg), 1)) {
      Ops tf = m.ops();
      GaussianDiffusion d = (GaussianDiffusion) m.diffusion().orElseThrow();
      var seed = tf.placeholder(TInt64.class);
      Operand<TFloat32> loss = d.loss(tf, TinyModels.constant(tf, TinyModels.uniform(3, 0, 1, 4, 4, 4, 1)), seed,
          false, Forward.inference());
      float a = lossAt(m, loss, seed, 1, 2);
      float b = lossAt(m, loss, seed, 1, 2);
      float c = lossAt(m, loss, seed, 1, 3);
      assertEquals(a, b, 0f, "same seed, same loss");
      assertEquals(true, a != c, "another seed, another loss");
      assertEquals(true, Float.isFinite(a) && a >= 0, "finite, non-negative loss " + a);
    }
  }

  private static float lossAt(DiffusionModel m, Operand<TFloat32> loss, Operand<TInt64> seed, long s0, long s1) {
    try (TInt64 sd = TInt64.vectorOf(s0, s1);
        Result r = m.session().runner().feed(seed, sd).fetch(loss).run()) {
      return Tensors.toArray((TFloat32) r.get(0)).data()[0];
    }
  }

  @Test
  void selfConditioningStepNeedsASelfConditionedNetwork() {
    GaussianDiffusionConfig cfg = GaussianDiffusionConfig.builder(4, 4).timesteps(T).build();
    try (DiffusionModel m = DiffusionModel.create(new ModelConfig(TinyModels.unet2d(1, false), cfg), 1)) {
      Ops tf = m.ops();
      GaussianDiffusion d = (GaussianDiffusion) m.diffusion().orElseThrow();
      Operand<TFloat32> x = TinyModels.constant(tf, TinyModels.uniform(3, -1, 1, 2, 4, 4, 1));
      assertThrows(IllegalArgumentException.class,
          () -> d.pLosses(tf, x, tf.constant(new int[] {1, 2}), x, true, Forward.inference()));
    }
  }
}
