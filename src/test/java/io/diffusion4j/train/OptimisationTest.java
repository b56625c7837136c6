package io.diffusion4j.train;

import com.google.gson.JsonParser;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Gradient accumulation, clipping and EMA each do what their formulas say. */
class OptimisationTest {
  static final ModelConfig CONFIG = new ModelConfig(
      UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(8)).build(),
      GaussianDiffusionConfig.builder(8, 8).timesteps(50).offsetNoiseStrength(0.1).build());

  static FloatArray batch(SplittableRandom rng, int n) {
    float[] d = new float[n * 64];
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) rng.nextDouble();
    }
    return new FloatArray(new long[] {n, 8, 8, 1}, d);
  }

  static FloatArray rows(FloatArray a, int from, int to) {
    return new FloatArray(new long[] {to - from, 8, 8, 1}, Arrays.copyOfRange(a.data(), from * 64, to * 64));
  }

  /**
   * Two micro-batches of 4 give the update of one batch of 8: the step's draws (times, noise,
   * offsets) are made for the effective batch and sliced, so both see the same randomness, and the
   * loss is a mean, so the accumulated gradient equals the full one up to float summation order.
   * After two Adam steps at lr 1e-3 (each moves a weight by at most about lr) every weight agrees
   * within 1% of the two steps' reach: Adam divides by the gradient's root mean square, so where a
   * gradient is near 0 the round-off of another summation order (which differs with the CPU's
   * kernels) moves its update by more than its own size.
   */
  @Test
  void accumulatingTwoHalvesEqualsOneFullBatch() {
    SplittableRandom rng = new SplittableRandom(3);
    FloatArray[] full = {batch(rng, 8), batch(rng, 8)};
    Map<String, FloatArray> accumulated;
    Map<String, FloatArray> whole;
    float[] lossA = new float[2];
    float[] lossB = new float[2];
    try (DiffusionModel m = DiffusionModel.create(CONFIG, 4)) {
      TrainStep step = new TrainStep(m, new TrainStep.Options(Adam.Options.defaults(), 1.0, 2));
      for (int s = 0; s < 2; s++) {
        lossA[s] = step.run(List.of(rows(full[s], 0, 4), rows(full[s], 4, 8)), 9, s, 1e-3, true);
      }
      accumulated = m.weights();
    }
    try (DiffusionModel m = DiffusionModel.create(CONFIG, 4)) {
      TrainStep step = new TrainStep(m, new TrainStep.Options(Adam.Options.defaults(), 1.0, 1));
      for (int s = 0; s < 2; s++) {
        lossB[s] = step.run(full[s], 9, s, 1e-3, true);
      }
      whole = m.weights();
    }
    assertEquals(lossB[0], lossA[0], 1e-5 * lossB[0]);
    assertEquals(lossB[1], lossA[1], 1e-5 * lossB[1]);
    double worst = 0;
    for (var e : whole.entrySet()) {
      float[] a = accumulated.get(e.getKey()).data();
      float[] b = e.getValue().data();
      for (int i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
      }
    }
    assertTrue(worst < 0.01 * 2 * 1e-3, "largest weight difference " + worst);
  }

  @Test
  void clippingCapsTheGlobalNorm() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<TFloat32>> grads = List.of(tf.constant(new float[] {3, 0}), tf.constant(new float[][] {{0, 4}}));
      Operand<TFloat32> norm = GradientClipping.globalNorm(tf, grads);
      List<Operand<TFloat32>> clipped = GradientClipping.clipByGlobalNorm(tf, grads, norm, 1.0);
      List<Operand<TFloat32>> untouched = GradientClipping.clipByGlobalNorm(tf, grads, norm, 10.0);
      try (Result r = s.runner().fetch(norm).fetch(GradientClipping.globalNorm(tf, clipped))
          .fetch(clipped.get(0)).fetch(untouched.get(1)).run()) {
        assertEquals(5f, ((TFloat32) r.get(0)).getFloat(), 1e-6);
        assertEquals(1f, ((TFloat32) r.get(1)).getFloat(), 1e-6);
        assertEquals(0.6f, Tensors.toArray((TFloat32) r.get(2)).data()[0], 1e-6);
        assertEquals(4f, Tensors.toArray((TFloat32) r.get(3)).data()[1], 0);
      }
    }
  }

  /**
   * ema_pytorch's schedule: copies until call 100, then decay min(beta, 1 - (1 + n)^(-2/3)); or
   * the power function of a sigma_rel.
   */
  @Test
  void emaFollowsItsFormula() {
    try (DiffusionModel m = DiffusionModel.create(CONFIG, 1, true)) {
      Parameters online = m.network().parameters();
      Parameters shadow = m.emaNetwork().orElseThrow().parameters();
      Ema ema = new Ema(m.ops(), online, shadow, 0.995, null, 10, null);
      assertEquals(-1, ema.decayAt(0));
      assertTrue(Double.isNaN(ema.decayAt(5)));
      assertEquals(-1, ema.decayAt(100));
      assertEquals(1 - Math.pow(11, -2.0 / 3), ema.decayAt(110), 1e-12);
      assertEquals(0.995, ema.decayAt(1_000_000), 0);
      // the power function: beta_t = (1 - 1/t)^(gamma + 1) at step t, compounded over skipped steps
      double gamma = io.diffusion4j.train.posthoc.PowerFunction.gamma(0.1);
      Ema power = new Ema(m.ops(), online, shadow, 0.995, 0.1, 1, null);
      assertEquals(-1, power.decayAt(0));
      assertEquals(1 - io.diffusion4j.train.posthoc.PowerFunction.updateWeight(gamma, 500), power.decayAt(499), 1e-12);
      Ema every10 = new Ema(m.ops(), online, shadow, 0.995, 0.1, 10, null);
      double product = 1;
      for (long t = 492; t <= 501; t++) {
        product *= Math.pow(1 - 1.0 / t, gamma + 1);
      }
      assertEquals(product, every10.decayAt(500), 1e-12);

      Map<String, FloatArray> before = m.emaWeights();
      Map<String, FloatArray> target = m.weights();
      target.replaceAll((k, v) -> {
        float[] d = v.data().clone();
        for (int i = 0; i < d.length; i++) {
          d[i] += 1f;
        }
        return new FloatArray(v.shape(), d);
      });
      m.loadWeights(target);
      ema.step(m.session(), 110);
      double d = ema.decayAt(110);
      Map<String, FloatArray> after = m.emaWeights();
      for (var e : after.entrySet()) {
        float[] s0 = before.get(e.getKey()).data();
        float[] w = target.get(e.getKey()).data();
        float[] s1 = e.getValue().data();
        for (int i = 0; i < s1.length; i++) {
          assertEquals(d * s0[i] + (1 - d) * w[i], s1[i], 1e-5, e.getKey());
        }
      }
      ema.step(m.session(), 0);
      assertEquals(target.get("final_conv.bias"), m.emaWeights().get("final_conv.bias"));
    }
  }

  /** Karras et al. 2023, Eq. 67 as the reference's LambdaLR applies it: a factor on train_lr. */
  @Test
  void inverseSqrtScheduleFollowsItsFormula() {
    TrainerOptions options = TrainerOptions.builder().trainLr(2).lrSchedule(LearningRateSchedule.Decay.INV_SQRT).build();
    LearningRateSchedule s = options.learningRateSchedule();
    assertEquals(2 * 0.01, s.lr(2, 0), 1e-15);
    assertEquals(2 * 0.01, s.lr(2, 70_000), 1e-15);
    assertEquals(2 * 0.01 / 2, s.lr(2, 280_000), 1e-15);
    assertEquals(0.5 * 0.01 / Math.sqrt(10), TrainerOptions.builder().lrSchedule(LearningRateSchedule.Decay.INV_SQRT).lrTRef(100).build()
        .learningRateSchedule().lr(0.5, 1000), 1e-15);
    assertEquals(options, TrainerOptions.fromJson(options.toJson()));
    assertEquals(7.0, TrainerOptions.builder().build().learningRateSchedule().lr(7, 1_000_000), 0);
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> TrainerOptions.fromJson(JsonParser.parseString("{\"lr_schedule\": \"step\"}").getAsJsonObject()));
    assertTrue(e.getMessage().contains("lr_schedule = \"step\""), e.getMessage());
  }

  /** Linear warm-up, then half a cosine to 0 at train_num_steps. */
  @Test
  void cosineScheduleWithWarmUpFollowsItsFormula() {
    TrainerOptions options = TrainerOptions.builder().trainLr(2e-3).trainNumSteps(1000).lrSchedule(LearningRateSchedule.Decay.COSINE)
        .lrWarmupSteps(100).build();
    LearningRateSchedule s = options.learningRateSchedule();
    assertEquals(2e-3 / 100, s.lr(2e-3, 0), 1e-15);
    assertEquals(2e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.049)) * 0.5, s.lr(2e-3, 49), 1e-15);
    assertEquals(2e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.5)), s.lr(2e-3, 500), 1e-15);
    assertEquals(0, s.lr(2e-3, 1000), 1e-15);
    assertEquals(options, TrainerOptions.fromJson(options.toJson()));
    assertEquals(1e-3, TrainerOptions.builder().lrWarmupSteps(10).build().learningRateSchedule().lr(1e-3, 9), 0);
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> TrainerOptions.builder().lrWarmupSteps(-1).build());
    assertTrue(e.getMessage().contains("lr_warmup_steps = -1"), e.getMessage());
  }
}
