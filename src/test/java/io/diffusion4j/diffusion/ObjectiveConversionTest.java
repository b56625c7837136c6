package io.diffusion4j.diffusion;

import static io.diffusion4j.diffusion.TinyModels.assertAllClose;
import static io.diffusion4j.diffusion.TinyModels.constant;
import static io.diffusion4j.diffusion.TinyModels.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.Unet;
import io.diffusion4j.nn.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The conversions between noise, x0 and v are mutual inverses, per example of a batch whose
 * examples sit at different timesteps, and qSample / extract use the right table entry for each.
 */
class ObjectiveConversionTest {
  private static final int T = 100;
  /** One example per t: the start, the second step, the middle and the very end of the chain. */
  private static final int[] TIMES = {0, 1, 37, 50, 98, 99};
  private static final long[] SHAPE = {TIMES.length, 4, 4, 2};

  private static GaussianDiffusionConfig config(Objective o, BetaSchedule s) {
    return GaussianDiffusionConfig.builder(4, 4).timesteps(T).objective(o).betaSchedule(s).build();
  }

  /**
   * float32 tolerance for a result formed as c1*a - c2*b with |a|, |b| of order 1-4: each product
   * and the difference carry a relative rounding of 2^-24 of the largest term, and the float32
   * tables themselves are rounded, so the error is a few 1e-7 times (1 + the largest coefficient).
   * At t = T-1 of the cosine schedule sqrt(1/abar) is ~ 500, hence a per-example tolerance.
   */
  private static double tol(NoiseSchedule s, int t) {
    return 2e-6 * (1 + s.sqrtRecipAlphasCumprod[t]) * 4;
  }

  @ParameterizedTest
  @EnumSource(BetaSchedule.class)
  void conversionsAreMutualInverses(BetaSchedule schedule) {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      GaussianDiffusion d = new GaussianDiffusion(Unet.create(tf, TinyModels.unet2d(2, false)),
          config(Objective.PRED_V, schedule));
      NoiseSchedule s = d.schedule();
      FloatArray x0a = TinyModels.uniform(1, -1, 1, SHAPE);
      FloatArray noisea = TinyModels.normal(2, 1, SHAPE);
      Operand<TFloat32> x0 = constant(tf, x0a);
      Operand<TFloat32> noise = constant(tf, noisea);
      Operand<TInt32> t = tf.constant(TIMES);
      Operand<TFloat32> xt = d.qSample(tf, x0, t, noise);
      Operand<TFloat32> v = d.target(tf, Objective.PRED_V, x0, t, noise);
      VariancePreserving.Level level = d.level(tf, t, Value.of(tf, xt));
      Value x0FromV = Objective.PRED_V.x0(level, Value.of(tf, v));
      FloatArray[] r = run(session, xt, v,
          x0FromV.operand(),
          level.noise(Value.of(tf, x0)).operand(),
          Objective.PRED_NOISE.x0(level, Value.of(tf, noise)).operand(),
          // v and (x_t, x0) determine the noise too: x_t = sqrt(a) x0 + sqrt(1-a) eps, v = sqrt(a) eps - sqrt(1-a) x0
          level.noise(x0FromV).operand());
      int per = TinyModels.perExample(x0a);
      for (int n = 0; n < TIMES.length; n++) {
        int tn = TIMES[n];
        double tol = tol(s, tn);
        float[] x0n = slice(x0a, n, per);
        float[] noisen = slice(noisea, n, per);
        String at = schedule + " t=" + tn;
        assertAllClose(x0n, slice(r[2], n, per), 4e-6, "x0 from (x_t, v) == x0 at " + at);
        // recovering the noise divides by sqrt(1/a - 1), which is small at t = 0 (0.1 for linear):
        // the error of x_t (~1e-7 |x_t| sqrt(1/a)) is amplified by 1/sqrt(1/a - 1)
        double noiseTol = tol / s.sqrtRecipm1AlphasCumprod[tn];
        assertAllClose(noisen, slice(r[3], n, per), noiseTol, "noise from (x_t, x0) == noise at " + at);
        assertAllClose(x0n, slice(r[4], n, per), tol, "x0 from (x_t, noise) == x0 at " + at);
        assertAllClose(noisen, slice(r[5], n, per), noiseTol + 4e-6 / s.sqrtRecipm1AlphasCumprod[tn] * s.sqrtRecipAlphasCumprod[tn],
            "noise from (x_t, x0 from v) at " + at);
        // the values themselves, from the float32 tables, computed here in double
        float sa = (float) s.sqrtAlphasCumprod[tn];
        float s1a = (float) s.sqrtOneMinusAlphasCumprod[tn];
        float[] xtExpected = new float[per];
        float[] vExpected = new float[per];
        for (int i = 0; i < per; i++) {
          xtExpected[i] = (float) ((double) sa * x0n[i] + (double) s1a * noisen[i]);
          vExpected[i] = (float) ((double) sa * noisen[i] - (double) s1a * x0n[i]);
        }
        assertAllClose(xtExpected, slice(r[0], n, per), 1e-6, "qSample at " + at);
        assertAllClose(vExpected, slice(r[1], n, per), 1e-6, "v target at " + at);
      }
    }
  }

  /** Whatever the objective, the network output that is its own target converts back to (noise, x0). */
  @ParameterizedTest
  @EnumSource(Objective.class)
  void fromOutputRecoversNoiseAndStart(Objective objective) {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      GaussianDiffusion d = new GaussianDiffusion(Unet.create(tf, TinyModels.unet2d(2, false)),
          config(objective, BetaSchedule.SIGMOID));
      NoiseSchedule s = d.schedule();
      // x0 inside [-1, 1], so clipping changes nothing
      FloatArray x0a = TinyModels.uniform(3, -0.95, 0.95, SHAPE);
      FloatArray noisea = TinyModels.normal(4, 1, SHAPE);
      Operand<TFloat32> x0 = constant(tf, x0a);
      Operand<TFloat32> noise = constant(tf, noisea);
      Operand<TInt32> t = tf.constant(TIMES);
      Operand<TFloat32> xt = d.qSample(tf, x0, t, noise);
      Operand<TFloat32> out = switch (objective) {
        case PRED_NOISE -> noise;
        case PRED_X0 -> x0;
        case PRED_V -> d.target(tf, Objective.PRED_V, x0, t, noise);
      };
      GaussianDiffusion.Prediction plain = d.fromOutput(tf, xt, t, out, false, false);
      GaussianDiffusion.Prediction clipped = d.fromOutput(tf, xt, t, out, true, true);
      FloatArray[] r = run(session, plain.noise(), plain.xStart(), clipped.noise(), clipped.xStart());
      int per = TinyModels.perExample(x0a);
      for (int n = 0; n < TIMES.length; n++) {
        int tn = TIMES[n];
        double tol = tol(s, tn);
        // the noise is passed through for pred_noise without clipping; otherwise (and when re-derived
        // after clipping) it is derived through 1/sqrt(1/a - 1)
        double derivedTol = tol / s.sqrtRecipm1AlphasCumprod[tn];
        String at = objective + " t=" + tn;
        for (int k = 0; k < 2; k++) {
          double noiseTol = objective == Objective.PRED_NOISE && k == 0 ? 0 : derivedTol;
          assertAllClose(slice(noisea, n, per), slice(r[2 * k], n, per), noiseTol, (k == 0 ? "" : "clipped ") + "noise at " + at);
          assertAllClose(slice(x0a, n, per), slice(r[2 * k + 1], n, per), objective == Objective.PRED_X0 ? 0 : tol,
              (k == 0 ? "" : "clipped ") + "x0 at " + at);
        }
      }
    }
  }

  /** Clipping clamps x0 to [-1, 1]; the noise is re-derived from the clamped x0 when asked (and always for x0/v). */
  @ParameterizedTest
  @EnumSource(Objective.class)
  void clippingClampsStartAndRederivesNoise(Objective objective) {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      GaussianDiffusion d = new GaussianDiffusion(Unet.create(tf, TinyModels.unet2d(1, false)),
          config(objective, BetaSchedule.LINEAR));
      int[] times = {10, 60};
      long[] shape = {2, 2, 2, 1};
      // x0 well outside [-1, 1]
      FloatArray x0a = new FloatArray(shape, new float[] {3f, -2.5f, 0.5f, 1.5f, -4f, 0.25f, 2f, -1.2f});
      FloatArray noisea = TinyModels.normal(5, 1, shape);
      Operand<TInt32> t = tf.constant(times);
      Operand<TFloat32> x0 = constant(tf, x0a);
      Operand<TFloat32> noise = constant(tf, noisea);
      Operand<TFloat32> xt = d.qSample(tf, x0, t, noise);
      Operand<TFloat32> out = switch (objective) {
        case PRED_NOISE -> noise;
        case PRED_X0 -> x0;
        case PRED_V -> d.target(tf, Objective.PRED_V, x0, t, noise);
      };
      GaussianDiffusion.Prediction keep = d.fromOutput(tf, xt, t, out, true, false);
      GaussianDiffusion.Prediction rederive = d.fromOutput(tf, xt, t, out, true, true);
      FloatArray[] r = run(session, xt, keep.noise(), keep.xStart(), rederive.noise(), rederive.xStart());
      NoiseSchedule s = d.schedule();
      for (int i = 0; i < x0a.data().length; i++) {
        int tn = times[i / 4];
        float clamped = Math.max(-1f, Math.min(1f, x0a.data()[i]));
        float xti = r[0].data()[i];
        double rederived = ((double) (float) s.sqrtRecipAlphasCumprod[tn] * xti - clamped)
            / (float) s.sqrtRecipm1AlphasCumprod[tn];
        String at = objective + " element " + i;
        assertAllClose(new float[] {clamped}, new float[] {r[2].data()[i]}, 1e-5, "clamped x0 (keep) " + at);
        assertAllClose(new float[] {clamped}, new float[] {r[4].data()[i]}, 1e-5, "clamped x0 (rederive) " + at);
        assertAllClose(new float[] {(float) rederived}, new float[] {r[3].data()[i]}, 1e-4, "re-derived noise " + at);
        // without re-derivation pred_noise keeps the raw output; x0 and v objectives always derive it
        float expectedKeep = objective == Objective.PRED_NOISE ? noisea.data()[i] : (float) rederived;
        assertAllClose(new float[] {expectedKeep}, new float[] {r[1].data()[i]}, 1e-4, "noise (keep) " + at);
      }
    }
  }

  @Test
  void normalizeAndUnnormalize() {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      var net = Unet.create(tf, TinyModels.unet2d(1, false));
      GaussianDiffusion on = new GaussianDiffusion(net, GaussianDiffusionConfig.builder(4, 4).timesteps(10).build());
      GaussianDiffusion off = new GaussianDiffusion(net,
          GaussianDiffusionConfig.builder(4, 4).timesteps(10).autoNormalize(false).build());
      Operand<TFloat32> x = tf.constant(new float[] {0f, 0.25f, 0.5f, 1f});
      FloatArray[] r = run(session, on.normalize(tf, x), on.unnormalize(tf, x), off.normalize(tf, x),
          off.unnormalize(tf, on.normalize(tf, x)), on.unnormalize(tf, on.normalize(tf, x)));
      assertArrayEquals(new float[] {-1f, -0.5f, 0f, 1f}, r[0].data());
      assertArrayEquals(new float[] {0.5f, 0.625f, 0.75f, 1f}, r[1].data());
      assertArrayEquals(new float[] {0f, 0.25f, 0.5f, 1f}, r[2].data());
      assertArrayEquals(new float[] {-1f, -0.5f, 0f, 1f}, r[3].data());
      assertArrayEquals(new float[] {0f, 0.25f, 0.5f, 1f}, r[4].data());
    }
  }

  /** extract gathers table[t] per example and shapes it [N, 1, 1, 1] (2-D) or [N, 1, 1] (1-D). */
  @Test
  void extractBroadcastsPerExample() {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      GaussianDiffusion d2 = new GaussianDiffusion(Unet.create(tf.withSubScope("a"), TinyModels.unet2d(1, false)),
          GaussianDiffusionConfig.builder(4, 4).timesteps(10).build());
      GaussianDiffusion d1 = new GaussianDiffusion(Unet.create(tf.withSubScope("b"), TinyModels.unet1d(1, false)),
          GaussianDiffusionConfig.builder1d(8).timesteps(10).build());
      double[] table = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9.5};
      Operand<TInt32> t = tf.constant(new int[] {9, 0, 4});
      FloatArray[] r = run(session, d2.extract(tf, table, t), d1.extract(tf, table, t));
      assertArrayEquals(new long[] {3, 1, 1, 1}, r[0].shape());
      assertArrayEquals(new long[] {3, 1, 1}, r[1].shape());
      assertArrayEquals(new float[] {9.5f, 0f, 4f}, r[0].data());
      assertArrayEquals(new float[] {9.5f, 0f, 4f}, r[1].data());
    }
  }

  static float[] slice(FloatArray a, int n, int per) {
    float[] out = new float[per];
    System.arraycopy(a.data(), n * per, out, 0, per);
    return out;
  }
}
