package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** The Unet's down- and upsampling layers, as the reference builds them. */
public final class Resample {
  private Resample() {}

  /** A layer that maps one activation to another: the shape of every Unet stage's resampler. */
  public interface Layer {
    Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x);
  }

  /**
   * Halves the resolution. 2-D: pixel-unshuffle ('b c (h 2) (w 2) -> b (c 2 2) h w') then a 1x1
   * convolution, parameter {@code <s>.1.weight}. TensorFlow's SpaceToDepth orders the new channels
   * (p1, p2, c) where the reference orders them (c, p1, p2); the weight's layout absorbs the
   * difference, so the graph pays nothing for it. 1-D: {@link #stridedDownsample}.
   */
  public static Layer downsample(ParamScope s, int spatialRank, int in, int out) {
    if (spatialRank == 1) {
      return stridedDownsample(s, 1, in, out);
    }
    long[] torch = {out, 4L * in, 1, 1};
    ParamLayout layout = new ParamLayout(torch, new long[] {out, in, 4}, new int[] {2, 1, 0},
        new long[] {1, 1, 4L * in, out});
    Conv conv = new Conv(s.child(1), 2, layout, 4 * in, out, 1, 1, 0, true);
    return (tf, x) -> conv.apply(tf, tf.nn.spaceToDepth(x, 2L));
  }

  /** Halves the resolution with a strided conv (k 4, s 2, p 1) at {@code <s>}: the earlier layout's. */
  public static Layer stridedDownsample(ParamScope s, int spatialRank, int in, int out) {
    Conv conv = new Conv(s, spatialRank, in, out, 4, 2, 1, true);
    return conv::apply;
  }

  /** Doubles the resolution: nearest-neighbour upsampling then a 3x3 conv, parameter {@code <s>.1}. */
  public static Layer upsample(ParamScope s, int spatialRank, int in, int out) {
    Conv conv = Conv.same(s.child(1), spatialRank, in, out, 3);
    return (tf, x) -> conv.apply(tf, nearest2x(tf, x, spatialRank));
  }

  static Operand<TFloat32> nearest2x(Ops tf, Operand<TFloat32> x, int spatialRank) {
    long h = x.shape().get(1);
    long w = x.shape().get(2);
    int[] scale = spatialRank == 1 ? new int[] {1, 2} : new int[] {2, 2};
    if (h < 0 || w < 0) {
      // a size known only when the graph runs (a fully convolutional export)
      Operand<TInt32> hw = tf.slice(tf.shape(x), tf.constant(new int[] {1}), tf.constant(new int[] {2}));
      return tf.image.resizeNearestNeighbor(x, tf.math.mul(hw, tf.constant(scale)));
    }
    return tf.image.resizeNearestNeighbor(x, tf.constant(new int[] {(int) h * scale[0], (int) w * scale[1]}));
  }

  /** Wraps a plain conv as a resampling stage (the last stage of each path keeps its resolution). */
  public static Layer keep(Conv conv) {
    return conv::apply;
  }

}
