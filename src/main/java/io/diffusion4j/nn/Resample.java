package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** The networks' down- and upsampling layers, as the reference builds them. */
public final class Resample {
  private Resample() {}

  /** A layer that maps one activation to another: the shape of every stage's resampler. */
  public interface Layer {
    Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x);
  }

  /** Halves the resolution: {@link #pixelUnshuffle} by 2 in 2-D, {@link #stridedDownsample} in 1-D. */
  public static Layer downsample(ParamScope s, int spatialRank, int in, int out) {
    return spatialRank == 1 ? stridedDownsample(s, 1, in, out) : pixelUnshuffle(s, in, out, 2);
  }

  /**
   * Divides the resolution of an image by {@code factor}: pixel-unshuffle ('b c (h f) (w f) ->
   * b (c f f) h w') then a 1x1 convolution, parameter {@code <s>.1.weight}. TensorFlow's
   * SpaceToDepth orders the new channels (p1, p2, c) where the reference orders them (c, p1, p2);
   * the weight's layout absorbs the difference, so the graph pays nothing for it.
   */
  public static Layer pixelUnshuffle(ParamScope s, int in, int out, int factor) {
    long sub = (long) factor * factor;
    ParamLayout layout = new ParamLayout(new long[] {out, sub * in, 1, 1}, new long[] {out, in, sub},
        new int[] {2, 1, 0}, new long[] {1, 1, sub * in, out});
    Conv conv = new Conv(s.child(1), 2, layout, (int) sub * in, out, 1, 1, 0, true);
    return (tf, x) -> conv.apply(tf, factor == 1 ? x : tf.nn.spaceToDepth(x, (long) factor));
  }

  /**
   * Multiplies the resolution of an image by {@code factor} as simple_diffusion's Upsample: a 1x1
   * conv to out * factor^2 channels, SiLU, pixel shuffle ('b (c f f) h w -> b c (h f) (w f)'),
   * parameters {@code <s>.net.0}. DepthToSpace reads the channels as (p1, p2, c); the layouts of
   * weight and bias absorb the reference's (c, p1, p2). Initialised as the reference's
   * init_conv_: kaiming-uniform weights for the out channels, each repeated over its factor^2
   * sub-pixels, so the layer starts as nearest-neighbour upsampling (no checkerboard), bias zero.
   */
  public static Layer pixelShuffle(ParamScope s, int in, int out, int factor) {
    int sub = factor * factor;
    ParamScope c = s.child("net").child(0);
    Operand<TFloat32> weight = c.param("weight", new ParamLayout(new long[] {(long) out * sub, in, 1, 1},
        new long[] {out, sub, in}, new int[] {2, 1, 0}, new long[] {1, 1, in, (long) sub * out}),
        Init.tiledAlongLast(Init.kaimingUniform(in), sub));
    Operand<TFloat32> bias = c.param("bias", new ParamLayout(new long[] {(long) out * sub}, new long[] {out, sub},
        new int[] {1, 0}, new long[] {(long) sub * out}), Init.constant(0f));
    Conv conv = new Conv(2, 1, 1, 0, weight, bias);
    return (tf, x) -> {
      Operand<TFloat32> y = Functional.silu(tf, conv.apply(tf, x));
      return factor == 1 ? y : tf.nn.depthToSpace(y, (long) factor);
    };
  }

  /**
   * nn.ConvTranspose2d(in, out, patch, stride=patch), which turns patches back into pixels: its
   * kernels do not overlap, so it is a 1x1 conv to patch^2 * out channels, DepthToSpace, then the
   * bias. Parameters {@code <s>.weight} (PyTorch [in, out, patch, patch]) and {@code <s>.bias};
   * PyTorch initialises a transposed conv with fan_in = out * patch^2. {@code patch} > 1.
   */
  public static Layer unpatchify(ParamScope s, int in, int out, int patch) {
    long sub = (long) patch * patch;
    double bound = 1 / Math.sqrt(out * sub);
    Operand<TFloat32> weight = s.param("weight", new ParamLayout(new long[] {in, out, patch, patch},
        new long[] {in, out, sub}, new int[] {0, 2, 1}, new long[] {1, 1, in, sub * out}), Init.uniform(bound));
    Operand<TFloat32> bias = s.param("bias", ParamLayout.same(out), Init.uniform(bound));
    Conv conv = new Conv(2, 1, 1, 0, weight, null);
    return (tf, x) -> tf.nn.biasAdd(tf.nn.depthToSpace(conv.apply(tf, x), (long) patch), bias);
  }

  /**
   * The patch embedding of dual patchnorm (Kumar et al. 2023): patches of patch x patch pixels
   * ('b c (h p1) (w p2) -> b h w (c p1 p2)'), LayerNorm, Linear to {@code dim}, LayerNorm;
   * parameters {@code <s>.1}, {@code <s>.2}, {@code <s>.3}. SpaceToDepth orders a patch's values
   * (p1, p2, c); the layouts of the first norm and of the linear weight absorb the reference's
   * (c, p1, p2). {@code patch} > 1.
   */
  public static Layer dualPatchNorm(ParamScope s, int channels, int dim, int patch) {
    long sub = (long) patch * patch;
    int patchDim = (int) sub * channels;
    LayerNorm inNorm = new LayerNorm(s.child(1), new ParamLayout(new long[] {patchDim}, new long[] {channels, sub},
        new int[] {1, 0}, new long[] {patchDim}));
    Linear linear = Linear.withLayout(s.child(2), new ParamLayout(new long[] {dim, patchDim},
        new long[] {dim, channels, sub}, new int[] {2, 1, 0}, new long[] {patchDim, dim}), patchDim, dim);
    LayerNorm outNorm = new LayerNorm(s.child(3), dim);
    return (tf, x) -> outNorm.apply(tf, linear.apply(tf, inNorm.apply(tf, tf.nn.spaceToDepth(x, (long) patch))));
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
