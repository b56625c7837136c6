package io.diffusion4j.nn.mp;

import io.diffusion4j.nn.Init;
import io.diffusion4j.nn.ParamLayout;
import io.diffusion4j.nn.ParamScope;
import java.util.Collections;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Magnitude-preserving convolution or fully-connected layer (Equation 47) with forced weight
 * normalisation (Equation 66): no bias, and the forward pass always uses
 * normalize_weight(w) / sqrt(fan_in), in training and inference alike, so each output unit's
 * effective weights have unit norm.
 *
 * <p>Parameter {@code weight}, PyTorch shape [out, in] (linear) or [out, in, k...] (conv; one more
 * input channel with concat_ones_to_input), initialised randn as the reference does. The
 * reference also copies normalize_weight(w) into w before every training forward; here
 * {@link #renormalize} is that copy as an op, which training runs after every optimiser update
 * (see KarrasUnet#weightConstraints).
 *
 * <p>Convolutions are "same" convolutions with stride 1 on channels-last tensors; sequences run as
 * images of height 1 ([N, 1, L, C]), volumes use Conv3D (whose gradient {@link Conv3dGradient}
 * registers).
 */
public final class MpConv {
  private final int spatialRank;
  private final boolean concatOnes;
  private final double fanIn;
  private final Operand<TFloat32> weight;

  private MpConv(ParamScope s, int spatialRank, ParamLayout layout, double fanIn, boolean concatOnes) {
    this.spatialRank = spatialRank;
    this.concatOnes = concatOnes;
    this.fanIn = fanIn;
    this.weight = s.param("weight", layout, Init.normal(1));
  }

  /** MP linear layer, weight [out, in]. */
  public static MpConv linear(ParamScope s, int in, int out) {
    return new MpConv(s, 0, ParamLayout.linear(in, out), in, false);
  }

  /**
   * MP convolution, weight [out, in (+1), k, ...].
   *
   * @param spatialRank 1, 2 or 3
   * @param concatOnesToInput prepend a channel of ones to the input (the reference's input
   *     block, which has no bias); it widens the weight but not fan_in, as in the reference
   */
  public static MpConv conv(ParamScope s, int spatialRank, int in, int out, int kernel, boolean concatOnesToInput) {
    if (spatialRank < 1 || spatialRank > 3) {
      throw new IllegalArgumentException("spatial rank must be 1, 2 or 3, got " + spatialRank);
    }
    if (kernel % 2 != 1) {
      throw new IllegalArgumentException("'same' MP convolutions take odd kernels, got " + kernel);
    }
    if (spatialRank == 3) {
      Conv3dGradient.ensureRegistered();
    }
    int inputs = in + (concatOnesToInput ? 1 : 0);
    return new MpConv(s, spatialRank, ParamLayout.conv(spatialRank, inputs, out, kernel),
        in * Math.pow(kernel, spatialRank), concatOnesToInput);
  }

  /**
   * @param x [N, in] for a linear layer; channels-last [N, 1, L, C], [N, H, W, C] or
   *     [N, D, H, W, C] for a convolution
   */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> w = tf.math.mul(Mp.normalizeWeight(tf, weight), tf.constant((float) (1 / Math.sqrt(fanIn))));
    if (spatialRank == 0) {
      return tf.linalg.matMul(x, w);
    }
    if (concatOnes) {
      // F.pad(x, (..., 1, 0), value=1): a channel of ones in front
      int rank = x.shape().numDimensions();
      int[][] pads = new int[rank][2];
      pads[rank - 1][0] = 1;
      x = tf.pad(x, tf.constant(pads), tf.constant(1f));
    }
    List<Long> strides = Collections.nCopies(spatialRank == 3 ? 5 : 4, 1L);
    return spatialRank == 3 ? tf.nn.conv3d(x, w, strides, "SAME") : tf.nn.conv2d(x, w, strides, "SAME");
  }

  /** {@code weight <- normalize_weight(weight)}: puts the stored weight back on its sphere. */
  public Op renormalize(Ops tf) {
    if (!(weight instanceof Variable<TFloat32> v)) {
      throw new IllegalStateException("only weights held in variables can be renormalised");
    }
    return tf.assign(v, Mp.normalizeWeight(tf, v));
  }

  /** The fan-in of the forward scaling 1/sqrt(fan_in): inputs times kernel taps, without the ones channel. */
  public double fanIn() {
    return fanIn;
  }
}
