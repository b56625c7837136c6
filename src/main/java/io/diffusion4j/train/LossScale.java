package io.diffusion4j.train;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Dynamic loss scaling for float16 training, with torch.cuda.amp.GradScaler's defaults: the
 * backward pass starts from the scale instead of 1 (so small gradients survive float16), the
 * gradients are divided by it, and a step whose gradients are not all finite is skipped and halves
 * the scale; 2000 finite steps in a row double it.
 *
 * <p>The scale enters as the initial gradient of the loss rather than as {@code loss * scale}, so
 * the scaled loss itself is never formed: float16 would overflow on it (65504 is its largest value).
 */
final class LossScale {
  static final float INITIAL = 65536f;
  static final int GROWTH_INTERVAL = 2000;

  private final Variable<TFloat32> scale;
  /** Finite steps since the scale last changed (a float: exact far beyond the growth interval). */
  private final Variable<TFloat32> goodSteps;
  private final Op initializer;

  LossScale(Ops root) {
    Ops tf = root.withSubScope("loss_scale");
    scale = tf.withName("scale").variable(Shape.scalar(), TFloat32.class);
    goodSteps = tf.withName("good_steps").variable(Shape.scalar(), TFloat32.class);
    initializer = tf.withControlDependencies(List.of(tf.assign(scale, tf.constant(INITIAL)),
        tf.assign(goodSteps, tf.constant(0f)))).noOp();
  }

  Op initializer() {
    return initializer;
  }

  /** The initial gradient of the loss: the scale. */
  Operand<TFloat32> scale() {
    return scale;
  }

  /** The true gradients from ones computed against the scaled loss. */
  Operand<TFloat32> unscale(Ops tf, Operand<TFloat32> grad) {
    return tf.math.div(grad, scale);
  }

  /** Halves the scale after a skipped step; doubles it after {@link #GROWTH_INTERVAL} finite ones in a row. */
  Op update(Ops root, Operand<TFloat32> finite) {
    Ops tf = root.withSubScope("loss_scale_update");
    Operand<TFloat32> one = tf.constant(1f);
    Operand<TFloat32> counted = tf.math.mul(tf.math.add(goodSteps, one), finite);
    Operand<TFloat32> grow = tf.dtypes.cast(tf.math.greaterEqual(counted, tf.constant((float) GROWTH_INTERVAL)),
        TFloat32.class);
    // factor: 0.5 when skipped, 2 when grown, 1 otherwise
    Operand<TFloat32> factor = tf.math.add(tf.math.mul(tf.math.sub(one, finite), tf.constant(-0.5f)),
        tf.math.add(one, grow));
    Op s = tf.assign(scale, tf.math.mul(scale, factor));
    Op g = tf.assign(goodSteps, tf.math.mul(counted, tf.math.sub(one, grow)));
    return tf.withControlDependencies(List.of(s, g)).noOp();
  }

  List<Variable<TFloat32>> state() {
    return List.of(scale, goodSteps);
  }
}
