package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.types.TFloat32;

/** Stateless functions shared by the layers. */
public final class Functional {
  private Functional() {}

  public static Operand<TFloat32> silu(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(x, tf.math.sigmoid(x));
  }

  /**
   * Batched matrix product a x b (or of their transposes), as BatchMatMulV2: TensorFlow Java's
   * typed wrapper emits BatchMatMulV3, which the bfloat16 rewrite leaves in float32.
   */
  public static Operand<TFloat32> batchMatMul(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b, boolean adjX,
      boolean adjY) {
    return tf.scope().opBuilder("BatchMatMulV2", "BatchMatMulV2").addInput(a.asOutput()).addInput(b.asOutput())
        .setAttr("adj_x", adjX).setAttr("adj_y", adjY).build().output(0);
  }

  /** GELU with the exact erf form, as torch.nn.GELU() by default. */
  public static Operand<TFloat32> gelu(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> cdf = tf.math.mul(tf.constant(0.5f),
        tf.math.add(tf.constant(1f), tf.math.erf(tf.math.mul(x, tf.constant((float) (1 / Math.sqrt(2)))))));
    return tf.math.mul(x, cdf);
  }

  /** Inverted dropout: identity at inference, so sampling graphs carry no randomness from it. */
  public static Operand<TFloat32> dropout(Ops tf, Operand<TFloat32> x, double rate, Forward fwd) {
    if (rate <= 0 || !fwd.training()) {
      return x;
    }
    Operand<TFloat32> u = fwd.uniform(tf, tf.shape(x), x.shape());
    Operand<TFloat32> keep = tf.dtypes.cast(tf.math.greaterEqual(u, tf.constant((float) rate)), TFloat32.class);
    return tf.math.mul(x, tf.math.mul(keep, tf.constant((float) (1 / (1 - rate)))));
  }

  /**
   * x / max(||x||, 1e-12) along the channel (last) axis, as F.normalize(x, dim=1) on
   * channels-first tensors.
   */
  public static Operand<TFloat32> l2Normalize(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> sumSq = tf.reduceSum(tf.math.square(x), tf.constant(-1),
        ReduceSum.keepDims(true));
    return tf.math.mul(x, tf.math.rsqrt(tf.math.maximum(sumSq, tf.constant(1e-24f))));
  }
}
