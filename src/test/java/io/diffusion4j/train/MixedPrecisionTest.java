package io.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.runtime.Device;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.runtime.Precision;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Mixed precision trains for real: bfloat16 gives the loss of a fixed batch within 2% of float32's
 * (and not bit-equal, so the rewrite ran), float16's loss scaling skips a step whose gradients are
 * not finite, halves the scale and grows it again after 2000 good steps.
 */
class MixedPrecisionTest {
  private static final ModelConfig TINY = new ModelConfig(
      UnetConfig.builder(16).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(2)).attnDimHead(List.of(8)).build(),
      GaussianDiffusionConfig.builder(16, 16).timesteps(50).build());
  private static final TrainStep.Options OPTIONS = TrainerOptions.builder().build().stepOptions();

  @Test
  void bfloat16LossOfAFixedBatchIsWithinTwoPercentOfFloat32() {
    assumeTrue(Precision.cpuHasBf16(), "this CPU has no bfloat16 arithmetic");
    FloatArray batch = batch(8, 1);
    float fp32 = firstLoss(Execution.CPU, batch);
    float bf16 = firstLoss(new Execution(Device.CPU, Precision.BF16, false), batch);
    assertTrue(Float.isFinite(bf16));
    assertNotEquals(fp32, bf16, "the bfloat16 rewrite changed the arithmetic");
    assertEquals(fp32, bf16, 0.02 * fp32, "float32 " + fp32 + ", bfloat16 " + bf16);
  }

  @Test
  void float16SkipsNonFiniteStepsAndAdaptsItsScale() {
    Execution fp16 = new Execution(Device.CPU, Precision.FP16, false);
    try (DiffusionModel model = DiffusionModel.create(TINY, 4, false, fp16)) {
      TrainStep step = new TrainStep(model, OPTIONS);
      assertEquals(LossScale.INITIAL, step.lossScale());
      Map<String, FloatArray> before = model.weights();
      float[] bad = batch(4, 2).data().clone();
      bad[5] = Float.NaN;
      step.run(new FloatArray(new long[] {4, 16, 16, 1}, bad), 1, 0, 1e-3, true);
      assertEquals(before, model.weights(), "a step with non-finite gradients changes no weight");
      assertEquals(LossScale.INITIAL / 2, step.lossScale());
      float loss = step.run(batch(4, 2), 1, 1, 1e-3, true);
      assertTrue(Float.isFinite(loss) && loss > 0, "loss " + loss);
      assertNotEquals(before, model.weights(), "a finite step trains");
      assertEquals(LossScale.INITIAL / 2, step.lossScale());
    }
  }

  /** The scale doubles after GROWTH_INTERVAL finite steps in a row, and a skipped step restarts the count. */
  @Test
  void theScaleGrowsAfterTheIntervalOfFiniteSteps() {
    try (org.tensorflow.Graph g = new org.tensorflow.Graph(); org.tensorflow.Session s = new org.tensorflow.Session(g)) {
      Ops tf = Ops.create(g);
      LossScale scale = new LossScale(tf);
      var finite = tf.placeholder(TFloat32.class);
      var update = scale.update(tf, finite);
      s.run(scale.initializer());
      try (TFloat32 one = TFloat32.scalarOf(1f); TFloat32 zero = TFloat32.scalarOf(0f)) {
        s.runner().feed(finite, zero).addTarget(update).run().close();
        for (int i = 0; i < LossScale.GROWTH_INTERVAL - 1; i++) {
          s.runner().feed(finite, one).addTarget(update).run().close();
        }
        assertEquals(LossScale.INITIAL / 2, value(s, scale));
        s.runner().feed(finite, one).addTarget(update).run().close();
        assertEquals(LossScale.INITIAL, value(s, scale));
      }
    }
  }

  private static float value(org.tensorflow.Session s, LossScale scale) {
    try (Result r = s.runner().fetch(scale.scale()).run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }

  private static float firstLoss(Execution execution, FloatArray batch) {
    try (DiffusionModel model = DiffusionModel.create(TINY, 4, false, execution)) {
      return new TrainStep(model, OPTIONS).run(batch, 1, 0, 1e-4, true);
    }
  }

  private static FloatArray batch(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n * 16 * 16];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextDouble();
    }
    return new FloatArray(new long[] {n, 16, 16, 1}, v);
  }
}
