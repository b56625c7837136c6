package io.diffusion4j.nn.mp;

import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.types.TFloat32;

/**
 * PyTorch's F.interpolate in 'bilinear' / 'trilinear' mode with align_corners=False and no
 * antialiasing, on channels-last tensors: the Karras U-Nets' resampling by factors of 2.
 *
 * <p>Each axis is interpolated linearly at half-pixel centres, which is TensorFlow's ResizeBilinear
 * with half_pixel_centers=true (both clamp source positions to the edge the same way). Sequences
 * run as images of height 1; volumes are resized separably, depth first and then the plane, since
 * trilinear weights are products of per-axis linear weights. Every op here has a gradient.
 */
public final class LinearResample {
  private LinearResample() {}

  /**
   * @param x [N, H, W, C] (sequences as [N, 1, L, C]) or [N, D, H, W, C], with known spatial sizes
   * @param size the new spatial sizes, one per spatial axis of x
   */
  public static Operand<TFloat32> resize(Ops tf, Operand<TFloat32> x, long[] size) {
    long[] shape = x.shape().asArray();
    if (size.length != shape.length - 2) {
      throw new IllegalArgumentException("need one size per spatial axis of " + x.shape() + ", got " + size.length);
    }
    long c = shape[shape.length - 1];
    if (shape.length == 4) {
      return plane(tf, x, shape[1], shape[2], size[0], size[1]);
    }
    long d = shape[1];
    long h = shape[2];
    long w = shape[3];
    if (size[0] != d) {
      // [N, D, H*W, C]: only the depth (height here) changes
      Operand<TFloat32> flat = tf.reshape(x, tf.constant(new long[] {-1, d, h * w, c}));
      flat = plane(tf, flat, d, h * w, size[0], h * w);
      x = tf.reshape(flat, tf.constant(new long[] {-1, size[0], h, w, c}));
      d = size[0];
    }
    if (size[1] != h || size[2] != w) {
      Operand<TFloat32> planes = tf.reshape(x, tf.constant(new long[] {-1, h, w, c}));
      planes = plane(tf, planes, h, w, size[1], size[2]);
      x = tf.reshape(planes, tf.constant(new long[] {-1, d, size[1], size[2], c}));
    }
    return x;
  }

  /** Halves (factor 2 at an axis) or keeps each spatial axis: {@code resize} to size / factor. */
  public static Operand<TFloat32> down(Ops tf, Operand<TFloat32> x, int[] factors) {
    long[] size = spatial(x);
    for (int i = 0; i < size.length; i++) {
      size[i] /= factors[i];
    }
    return resize(tf, x, size);
  }

  /** Doubles (factor 2 at an axis) or keeps each spatial axis: {@code resize} to size * factor. */
  public static Operand<TFloat32> up(Ops tf, Operand<TFloat32> x, int[] factors) {
    long[] size = spatial(x);
    for (int i = 0; i < size.length; i++) {
      size[i] *= factors[i];
    }
    return resize(tf, x, size);
  }

  private static Operand<TFloat32> plane(Ops tf, Operand<TFloat32> x, long h, long w, long newH, long newW) {
    if (h == newH && w == newW) {
      return x;
    }
    return tf.image.resizeBilinear(x, tf.constant(new int[] {(int) newH, (int) newW}),
        ResizeBilinear.alignCorners(false), ResizeBilinear.halfPixelCenters(true));
  }

  private static long[] spatial(Operand<TFloat32> x) {
    long[] shape = x.shape().asArray();
    return Arrays.copyOfRange(shape, 1, shape.length - 1);
  }
}
