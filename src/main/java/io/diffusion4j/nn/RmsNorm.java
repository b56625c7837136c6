package io.diffusion4j.nn;

import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The reference's RMSNorm: F.normalize over channels times a learned gain {@code g} times
 * sqrt(dim). The Unets keep {@code g} as [1, dim, 1(, 1)], simple_diffusion as [dim]; here it is
 * [dim] either way.
 */
public final class RmsNorm {
  /** How a block makes its norms, which decides the PyTorch shape of their gains. */
  @FunctionalInterface
  public interface Factory {
    RmsNorm create(ParamScope s, int dim);
  }

  /** null: no gain (scale=False). */
  private final Operand<TFloat32> g;
  private final float scale;

  /** @param spatialRank 1 or 2: only the PyTorch shape of {@code g}, [1, dim, 1(, 1)], depends on it */
  public RmsNorm(ParamScope s, int spatialRank, int dim) {
    this(s, channelsFirstGain(spatialRank, dim), dim);
  }

  private RmsNorm(ParamScope s, long[] torchGain, int dim) {
    g = s == null ? null : s.param("g", ParamLayout.reshape(torchGain, new long[] {dim}), Init.constant(1f));
    scale = (float) Math.sqrt(dim);
  }

  /** Norms whose gain PyTorch keeps as [1, dim, 1(, 1)]. */
  public static Factory channelsFirst(int spatialRank) {
    return (s, dim) -> new RmsNorm(s, spatialRank, dim);
  }

  /** A norm whose gain PyTorch keeps as [dim] (simple_diffusion's RMSNorm). */
  public static RmsNorm vector(ParamScope s, int dim) {
    return new RmsNorm(s, new long[] {dim}, dim);
  }

  /** RMSNorm(dim, scale=False): no parameter. */
  public static RmsNorm unscaled(int dim) {
    return new RmsNorm(null, null, dim);
  }

  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> factor = g == null ? tf.constant(scale) : tf.math.mul(g, tf.constant(scale));
    return tf.math.mul(Functional.l2Normalize(tf, x), factor);
  }

  private static long[] channelsFirstGain(int spatialRank, int dim) {
    long[] torch = new long[2 + spatialRank];
    Arrays.fill(torch, 1);
    torch[1] = dim;
    return torch;
  }
}
