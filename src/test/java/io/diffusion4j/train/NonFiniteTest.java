package io.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * A step whose loss overflows changes nothing: not the weights, not Adam's moments and powers,
 * not the EMA; the graph counts it, in all and in a row, and the next finite step trains again.
 */
class NonFiniteTest {
  static final int LEN = 8;
  static final ModelConfig TINY = new ModelConfig(UnetConfig.builder1d(8).dimMults(List.of(1, 2)).channels(1).build(),
      GaussianDiffusionConfig.builder1d(LEN).timesteps(20).build());

  /** Sequences in [0, 1], or with one value of 1e30 that makes the squared error infinite in float32. */
  static FloatArray batch(SplittableRandom rng, boolean overflow) {
    float[] v = new float[4 * LEN];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rng.nextDouble();
    }
    if (overflow) {
      v[3] = 1e30f;
    }
    return new FloatArray(new long[] {4, LEN, 1}, v);
  }

  @Test
  void anOverflowingBatchLeavesWeightsOptimiserAndEmaAsTheyWere() {
    for (int accumulate : new int[] {1, 2}) {
      SplittableRandom rng = new SplittableRandom(1);
      try (DiffusionModel model = DiffusionModel.create(TINY, 3, true)) {
        TrainStep step = new TrainStep(model, new TrainStep.Options(Adam.Options.defaults(), 1.0, accumulate));
        Ema ema = new Ema(model.ops(), model.network().parameters(), model.emaNetwork().orElseThrow().parameters(),
            0.9, 0.1, 1, step.applied());
        for (int s = 0; s < 3; s++) {
          run(step, rng, false, s);
          ema.step(model.session(), s);
        }
        Map<String, FloatArray> weights = model.weights();
        Map<String, FloatArray> averaged = model.emaWeights();
        List<float[]> optimiser = read(model.session(), step.state());

        float loss = run(step, rng, true, 3);
        ema.step(model.session(), 3);
        assertTrue(accumulate > 1 || !Float.isFinite(loss), "the loss overflows: " + loss);
        assertEquals(weights, model.weights(), "weights after a skipped step (accumulating " + accumulate + ")");
        assertEquals(averaged, model.emaWeights(), "EMA after a skipped step");
        List<float[]> after = read(model.session(), step.state());
        for (int i = 0; i < after.size(); i++) {
          assertArrayEquals(optimiser.get(i), after.get(i), "optimiser state " + i);
        }
        assertEquals(new NonFiniteSteps.Counts(1, 1), step.nonFiniteCounts());
        run(step, rng, true, 4);
        assertEquals(new NonFiniteSteps.Counts(2, 2), step.nonFiniteCounts(), "a row of two");
        assertEquals(weights, model.weights());

        run(step, rng, false, 5);
        ema.step(model.session(), 5);
        assertNotEquals(weights, model.weights(), "a finite step trains again");
        assertEquals(new NonFiniteSteps.Counts(2, 0), step.nonFiniteCounts(), "the row ends");
      }
    }
  }

  private static float run(TrainStep step, SplittableRandom rng, boolean overflow, long s) {
    List<FloatArray> micro = new ArrayList<>();
    for (int j = 0; j < step.gradientAccumulateEvery(); j++) {
      micro.add(batch(rng, overflow && j == 0));
    }
    return step.run(micro, 5, s, 1e-3, true);
  }

  /** The variables' values, fetched in one run (each distinct run costs a graph optimisation). */
  private static List<float[]> read(Session session, List<Variable<TFloat32>> variables) {
    Session.Runner runner = session.runner();
    variables.forEach(runner::fetch);
    List<float[]> values = new ArrayList<>();
    try (Result r = runner.run()) {
      for (int i = 0; i < variables.size(); i++) {
        values.add(io.diffusion4j.nn.Tensors.toArray((TFloat32) r.get(i)).data().clone());
      }
    }
    return values;
  }
}
