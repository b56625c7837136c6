package io.diffusion4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * nn.Conv1d / nn.Conv2d / nn.Conv3d on channels-last tensors, one class for every rank.
 *
 * <p>Sequences run as images of height 1 ([N, 1, L, C]) so that 1-D and 2-D share Conv2D's fast
 * NHWC kernels and its registered gradient; volumes use Conv3D.
 */
public final class Conv {
  private final int spatialRank;
  private final int kernel;
  private final int stride;
  private final int padding;
  private final Operand<TFloat32> weight;
  private final Operand<TFloat32> bias;

  /** A convolution whose weight layout is the standard one. */
  public Conv(ParamScope s, int spatialRank, int in, int out, int kernel, int stride, int padding,
      boolean bias) {
    this(s, spatialRank, ParamLayout.conv(spatialRank, in, out, kernel), in * pow(kernel, spatialRank),
        out, kernel, stride, padding, bias);
  }

  /** A convolution whose PyTorch weight maps to TensorFlow through a custom layout. */
  Conv(ParamScope s, int spatialRank, ParamLayout layout, int fanIn, int out, int kernel, int stride,
      int padding, boolean bias) {
    this(spatialRank, kernel, stride, padding, s.param("weight", layout, Init.uniform(1 / Math.sqrt(fanIn))),
        bias ? s.param("bias", ParamLayout.same(out), Init.uniform(1 / Math.sqrt(fanIn))) : null);
  }

  /** A convolution over given parameters (layouts or initialisations of their own); {@code bias} may be null. */
  Conv(int spatialRank, int kernel, int stride, int padding, Operand<TFloat32> weight, Operand<TFloat32> bias) {
    if (spatialRank < 1 || spatialRank > 3) {
      throw new IllegalArgumentException("spatial rank must be 1, 2 or 3, got " + spatialRank);
    }
    this.spatialRank = spatialRank;
    this.kernel = kernel;
    this.stride = stride;
    this.padding = padding;
    this.weight = weight;
    this.bias = bias;
  }

  /** A "same" convolution: stride 1, padding k/2. */
  public static Conv same(ParamScope s, int spatialRank, int in, int out, int kernel) {
    return new Conv(s, spatialRank, in, out, kernel, 1, kernel / 2, true);
  }

  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    String mode;
    if (padding == 0) {
      mode = "VALID";
    } else if (stride == 1 && 2 * padding == kernel - 1) {
      mode = "SAME";
    } else {
      x = tf.pad(x, tf.constant(explicitPadding(x.shape().numDimensions())), tf.constant(0f));
      mode = "VALID";
    }
    List<Long> strides = new ArrayList<>(Collections.nCopies(spatialRank == 3 ? 5 : 4, 1L));
    for (int axis = firstStridedAxis(); axis <= (spatialRank == 3 ? 3 : 2); axis++) {
      strides.set(axis, (long) stride);
    }
    Operand<TFloat32> y = spatialRank == 3
        ? tf.nn.conv3d(x, weight, strides, mode)
        : tf.nn.conv2d(x, weight, strides, mode);
    return bias == null ? y : tf.nn.biasAdd(y, bias);
  }

  private int firstStridedAxis() {
    return spatialRank == 1 ? 2 : 1;
  }

  private int[][] explicitPadding(int rank) {
    int[][] pads = new int[rank][2];
    for (int axis = firstStridedAxis(); axis < rank - 1; axis++) {
      pads[axis][0] = padding;
      pads[axis][1] = padding;
    }
    return pads;
  }

  static int pow(int base, int exp) {
    int r = 1;
    for (int i = 0; i < exp; i++) {
      r *= base;
    }
    return r;
  }
}
