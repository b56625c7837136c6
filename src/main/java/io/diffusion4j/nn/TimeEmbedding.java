package io.diffusion4j.nn;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Embeddings of the scalar time (or noise level) input of the networks. */
public final class TimeEmbedding {
  private TimeEmbedding() {}

  /** An embedding of a [N] time vector into [N, outDim] features. */
  public interface Embedding {
    Operand<TFloat32> apply(Ops tf, Operand<TFloat32> time);

    int outDim();
  }

  /**
   * Transformer sinusoids: sin and cos of t * theta^(-i/(half-1)), i = 0..half-1 (Vaswani et al.,
   * with the reference's spacing).
   */
  public static Embedding sinusoidal(int dim, double theta) {
    int half = dim / 2;
    float[] freqs = new float[half];
    double step = Math.log(theta) / (half - 1);
    for (int i = 0; i < half; i++) {
      freqs[i] = (float) Math.exp(-step * i);
    }
    return new Embedding() {
      @Override
      public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> time) {
        Operand<TFloat32> args = tf.math.mul(tf.expandDims(time, tf.constant(1)),
            tf.constant(new float[][] {freqs}));
        return tf.concat(List.of(tf.math.sin(args), tf.math.cos(args)), tf.constant(-1));
      }

      @Override
      public int outDim() {
        return 2 * half;
      }
    };
  }

  /**
   * Random Fourier features with learned (or, for random_fourier_features, frozen) frequencies,
   * after Crowson's v-diffusion: [t, sin(2 pi t w), cos(2 pi t w)], parameter {@code weights}.
   */
  public static Embedding learnedSinusoidal(ParamScope s, int dim, boolean frozen) {
    if (dim % 2 != 0) {
      throw new IllegalArgumentException("learned_sinusoidal_dim must be even, got " + dim);
    }
    int half = dim / 2;
    Operand<TFloat32> w = frozen
        ? s.frozenParam("weights", ParamLayout.same(half), Init.normal(1))
        : s.param("weights", ParamLayout.same(half), Init.normal(1));
    return new Embedding() {
      @Override
      public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> time) {
        Operand<TFloat32> t = tf.expandDims(time, tf.constant(1));
        Operand<TFloat32> args = tf.math.mul(tf.math.mul(t, tf.expandDims(w, tf.constant(0))),
            tf.constant((float) (2 * Math.PI)));
        return tf.concat(List.of(t, tf.math.sin(args), tf.math.cos(args)), tf.constant(-1));
      }

      @Override
      public int outDim() {
        return dim + 1;
      }
    };
  }
}
