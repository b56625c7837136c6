package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The reference's RMSNorm: F.normalize over channels times a learned gain {@code g} times
 * sqrt(dim). PyTorch keeps {@code g} as [1, dim, 1(, 1)]; here it is [dim].
 */
public final class RmsNorm {
  private final Operand<TFloat32> g;
  private final float scale;

  /** @param spatialRank 1 or 2: only the PyTorch shape of {@code g} depends on it */
  public RmsNorm(ParamScope s, int spatialRank, int dim) {
    long[] torch = new long[2 + spatialRank];
    java.util.Arrays.fill(torch, 1);
    torch[1] = dim;
    g = s.param("g", ParamLayout.reshape(torch, new long[] {dim}), Init.constant(1f));
    scale = (float) Math.sqrt(dim);
  }

  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(Functional.l2Normalize(tf, x), tf.math.mul(g, tf.constant(scale)));
  }
}
