package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Initial values, drawn the way PyTorch initialises the same layers, from stateless random ops so
 * that a seed fixes every parameter.
 */
@FunctionalInterface
public interface Init {

  /** Builds the initial value of a parameter of TensorFlow shape {@code shape}. */
  Operand<TFloat32> build(Ops tf, long[] shape, Operand<TInt64> seed);

  /** U(-bound, bound): nn.Linear and nn.ConvNd use bound = 1/sqrt(fan_in) for weights and biases. */
  static Init uniform(double bound) {
    return (tf, shape, seed) -> tf.math.sub(
        tf.math.mul(Random.uniform(tf, tf.constant(shape), seed),
            tf.constant((float) (2 * bound))),
        tf.constant((float) bound));
  }

  static Init normal(double std) {
    return (tf, shape, seed) -> tf.math.mul(
        Random.normal(tf, tf.constant(shape), seed), tf.constant((float) std));
  }

  static Init constant(float value) {
    return (tf, shape, seed) -> tf.fill(tf.constant(shape), tf.constant(value));
  }
}
