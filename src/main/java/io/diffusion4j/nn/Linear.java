package io.diffusion4j.nn;

import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** nn.Linear: {@code x @ weight + bias} over the last axis of [N, ..., in]. */
public final class Linear {
  private final int out;
  private final Operand<TFloat32> weight;
  /** null: bias=False. */
  private final Operand<TFloat32> bias;

  public Linear(ParamScope s, int in, int out) {
    this(s, ParamLayout.linear(in, out), in, out, true, Init.uniform(1 / Math.sqrt(in)));
  }

  /** nn.Linear(in, out, bias=False). */
  public static Linear withoutBias(ParamScope s, int in, int out) {
    return new Linear(s, ParamLayout.linear(in, out), in, out, false, Init.uniform(1 / Math.sqrt(in)));
  }

  /** A linear layer whose weight and bias start at zero (a modulation that starts as none). */
  public static Linear zeroInit(ParamScope s, int in, int out) {
    return new Linear(s, ParamLayout.linear(in, out), in, out, true, Init.constant(0f));
  }

  /** A linear layer whose PyTorch weight maps to TensorFlow's [in, out] through {@code layout}. */
  public static Linear withLayout(ParamScope s, ParamLayout layout, int in, int out) {
    return new Linear(s, layout, in, out, true, Init.uniform(1 / Math.sqrt(in)));
  }

  private Linear(ParamScope s, ParamLayout layout, int in, int out, boolean bias, Init init) {
    this.out = out;
    weight = s.param("weight", layout, init);
    this.bias = bias ? s.param("bias", ParamLayout.same(out), init) : null;
  }

  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    long[] shape = x.shape().asArray();
    // an unknown rank (inside a while loop's body) is that of [N, in]
    if (shape == null || shape.length == 2) {
      return dense(tf, x);
    }
    // every position in one matmul: [N, ..., in] -> [positions, in] and back
    Operand<TFloat32> y = dense(tf, tf.reshape(x, tf.constant(new long[] {-1, shape[shape.length - 1]})));
    shape[0] = -1;
    shape[shape.length - 1] = out;
    if (Arrays.stream(shape, 1, shape.length).allMatch(d -> d >= 0)) {
      return tf.reshape(y, tf.constant(shape));
    }
    // a spatial size known only when the graph runs (a fully convolutional export)
    Operand<TInt64> leading = tf.slice(tf.shape(x, TInt64.class), tf.constant(new int[] {0}),
        tf.constant(new int[] {shape.length - 1}));
    return tf.ensureShape(tf.reshape(y, tf.concat(List.of(leading, tf.constant(new long[] {out})), tf.constant(0))),
        Shape.of(shape));
  }

  private Operand<TFloat32> dense(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> y = tf.linalg.matMul(x, weight);
    return bias == null ? y : tf.nn.biasAdd(y, bias);
  }
}
