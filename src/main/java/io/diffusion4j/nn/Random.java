package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.OperationBuilder;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TNumber;
import org.tensorflow.types.family.TType;

/**
 * TensorFlow's stateless random ops, every draw of the library made here and marked
 * {@code _XlaCompile = false}: XLA compiles these ops with its own generator, which draws other
 * numbers from the same seed, and a seed must give the same noise with and without {@code --xla}.
 */
public final class Random {
  private Random() {}

  /** Standard normal float32 values of {@code shape}, from an int64[2] {@code seed} (StatelessRandomNormal). */
  public static Operand<TFloat32> normal(Ops tf, Operand<? extends TNumber> shape, Operand<TInt64> seed) {
    return build(tf, "StatelessRandomNormal", shape, seed).setAttr("dtype", DataType.DT_FLOAT).build().output(0);
  }

  /** Uniform float32 values in [0, 1) (StatelessRandomUniform). */
  public static Operand<TFloat32> uniform(Ops tf, Operand<? extends TNumber> shape, Operand<TInt64> seed) {
    return build(tf, "StatelessRandomUniform", shape, seed).setAttr("dtype", DataType.DT_FLOAT).build().output(0);
  }

  /** Uniform integers in [min, max) (StatelessRandomUniformInt). */
  public static Operand<TInt32> uniformInt(Ops tf, Operand<? extends TNumber> shape, Operand<TInt64> seed,
      Operand<TInt32> min, Operand<TInt32> max) {
    return build(tf, "StatelessRandomUniformInt", shape, seed, min, max).build().output(0);
  }

  /** Standard normal values from an explicit generator state (StatelessRandomNormalV2: key, counter, algorithm). */
  public static Operand<TFloat32> normal(Ops tf, Operand<? extends TNumber> shape, Operand<? extends TType> key,
      Operand<? extends TType> counter, Operand<TInt32> algorithm) {
    return build(tf, "StatelessRandomNormalV2", shape, key, counter, algorithm).setAttr("dtype", DataType.DT_FLOAT)
        .build().output(0);
  }

  private static OperationBuilder build(Ops tf, String type, Operand<?>... inputs) {
    OperationBuilder b = tf.scope().opBuilder(type, type);
    for (Operand<?> input : inputs) {
      b.addInput(input.asOutput());
    }
    return b.setAttr("_XlaCompile", false);
  }
}
