package io.diffusion4j.diffusion;

import io.diffusion4j.nn.Value;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Reductions the diffusions' losses share. */
final class Losses {
  private Losses() {}

  /** The mean over every axis but the batch's: [N, ...] to [N] (the reference's reduce 'b ... -> b'). */
  static Operand<TFloat32> meanPerExample(Ops tf, Operand<TFloat32> x) {
    int rank = x.shape().numDimensions();
    if (rank < 1) {
      throw new IllegalArgumentException("a batch needs a known rank, got " + x.shape());
    }
    int[] axes = new int[rank - 1];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i + 1;
    }
    return tf.math.mean(x, tf.constant(axes));
  }

  /** The mean squared error of each example: [N, ...] to [N]. */
  static Value meanSquaredError(Value a, Value b) {
    return a.squaredDifference(b).apply(Losses::meanPerExample);
  }
}
