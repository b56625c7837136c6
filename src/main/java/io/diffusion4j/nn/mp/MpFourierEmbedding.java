package io.diffusion4j.nn.mp;

import io.diffusion4j.nn.Init;
import io.diffusion4j.nn.ParamLayout;
import io.diffusion4j.nn.ParamScope;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Magnitude-preserving Fourier features (Equation 75), as the reference writes them:
 * sqrt(2) [sin(2 pi t w), cos(2 pi t w)] with frozen random frequencies {@code weights}
 * ([dim / 2], randn, requires_grad=False). Every (sin, cos) pair has squared norm 2, so the
 * embedding has unit magnitude for any t.
 */
public final class MpFourierEmbedding {
  private final int dim;
  private final Operand<TFloat32> weights;

  public MpFourierEmbedding(ParamScope s, int dim) {
    if (dim <= 0 || dim % 2 != 0) {
      throw new IllegalArgumentException("the Fourier embedding's dimension must be even and positive, got " + dim);
    }
    this.dim = dim;
    this.weights = s.frozenParam("weights", ParamLayout.same(dim / 2), Init.normal(1));
  }

  /** @param time [N]; returns [N, dim] */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> time) {
    Operand<TFloat32> freqs = tf.math.mul(
        tf.math.mul(tf.expandDims(time, tf.constant(1)), tf.expandDims(weights, tf.constant(0))),
        tf.constant((float) (2 * Math.PI)));
    Operand<TFloat32> features = tf.concat(List.of(tf.math.sin(freqs), tf.math.cos(freqs)), tf.constant(-1));
    return tf.math.mul(features, tf.constant((float) Math.sqrt(2)));
  }

  public int dim() {
    return dim;
  }
}
