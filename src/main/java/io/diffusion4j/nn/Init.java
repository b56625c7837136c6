package io.diffusion4j.nn;

import java.util.Arrays;
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

  /**
   * nn.init.kaiming_uniform_ with its defaults (a = 0, fan_in, leaky_relu gain sqrt(2)):
   * U(-sqrt(6 / fan_in), sqrt(6 / fan_in)).
   */
  static Init kaimingUniform(int fanIn) {
    return uniform(Math.sqrt(6.0 / fanIn));
  }

  /** {@code base}'s values for 1/{@code times} of the last axis, tiled {@code times} times along it. */
  static Init tiledAlongLast(Init base, int times) {
    return (tf, shape, seed) -> {
      long[] part = shape.clone();
      part[part.length - 1] /= times;
      long[] multiples = new long[shape.length];
      Arrays.fill(multiples, 1);
      multiples[multiples.length - 1] = times;
      return tf.tile(base.build(tf, part, seed), tf.constant(multiples));
    };
  }
}
