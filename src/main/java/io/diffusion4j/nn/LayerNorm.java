package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;

/** nn.LayerNorm(dim) over the last axis: biased variance, eps 1e-5, {@code weight} ones and {@code bias} zeros. */
public final class LayerNorm {
  private static final float EPS = 1e-5f;

  private final Operand<TFloat32> weight;
  private final Operand<TFloat32> bias;

  public LayerNorm(ParamScope s, int dim) {
    this(s, ParamLayout.same(dim));
  }

  /** A norm whose PyTorch weight and bias map to TensorFlow's [dim] through {@code layout}. */
  public LayerNorm(ParamScope s, ParamLayout layout) {
    weight = s.param("weight", layout, Init.constant(1f));
    bias = s.param("bias", layout, Init.constant(0f));
  }

  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> centred = tf.math.sub(x, tf.math.mean(x, tf.constant(-1), Mean.keepDims(true)));
    Operand<TFloat32> variance = tf.math.mean(tf.math.square(centred), tf.constant(-1), Mean.keepDims(true));
    Operand<TFloat32> normed = tf.math.mul(centred, tf.math.rsqrt(tf.math.add(variance, tf.constant(EPS))));
    return tf.math.add(tf.math.mul(normed, weight), bias);
  }
}
