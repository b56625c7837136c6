package io.diffusion4j.train.posthoc;

import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The two assignments of an exponential moving average, for the trainer's EMA and post-hoc EMA's
 * profiles alike. Each is gated by the step's {@code applied} flag (1 or 0, or null for none): a
 * step skipped as not finite moves no average.
 */
public final class EmaUpdates {
  private EmaUpdates() {}

  /** {@code target = online}, exactly (ema - (ema - online) may round). */
  public static Op copy(Ops tf, Variable<TFloat32> target, Operand<TFloat32> online, Operand<TFloat32> applied) {
    return tf.assign(target, applied == null ? online
        : tf.select(tf.math.greater(applied, tf.constant(0.5f)), online, target));
  }

  /** {@code target -= weight (target - online)}: weight is 1 - beta, a scalar. */
  public static Op move(Ops tf, Variable<TFloat32> target, Operand<TFloat32> online, Operand<TFloat32> weight,
      Operand<TFloat32> applied) {
    // a 0 weight leaves target exactly as it is; the weights are finite, as a skipped step leaves them
    Operand<TFloat32> w = applied == null ? weight : tf.math.mul(weight, applied);
    return tf.assignSub(target, tf.math.mul(w, tf.math.sub(target, online)));
  }
}
