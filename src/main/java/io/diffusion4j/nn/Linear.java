package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** nn.Linear: {@code x @ weight + bias} on [N, in]. */
public final class Linear {
  private final Operand<TFloat32> weight;
  private final Operand<TFloat32> bias;

  public Linear(ParamScope s, int in, int out) {
    double bound = 1 / Math.sqrt(in);
    weight = s.param("weight", ParamLayout.linear(in, out), Init.uniform(bound));
    bias = s.param("bias", ParamLayout.same(out), Init.uniform(bound));
  }

  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    return tf.nn.biasAdd(tf.linalg.matMul(x, weight), bias);
  }
}
