package io.diffusion4j.models;

import io.diffusion4j.nn.Attention;
import io.diffusion4j.nn.Conv;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Functional;
import io.diffusion4j.nn.Linear;
import io.diffusion4j.nn.ParamScope;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Resample;
import io.diffusion4j.nn.RmsNorm;
import io.diffusion4j.nn.TimeEmbedding;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The reference's {@code simple_diffusion.UViT}, with the same parameters under the same names:
 * a U-Net of ResNet blocks and linear attention whose innermost level is a transformer, its time
 * input a continuous noise level (log-SNR) embedded by learned Fourier features.
 *
 * <p>Each level downsamples by its own factor (pixel-unshuffle and a 1x1 conv; pixel shuffle on
 * the way up), after its blocks, the last level included. With patch_size > 1 the network works on
 * patches: the first layer cuts them (a strided conv, or dual patchnorm) and a transposed conv
 * puts them back into pixels at the end.
 *
 * <p>simple_diffusion's RMSNorm keeps its gains as [dim], where the Unets keep [1, dim, 1, 1]; its
 * stage attention is always 4 heads of 32, as the reference's LinearAttention defaults.
 */
public final class UViT implements Network {
  private static final int LINEAR_HEADS = 4;
  private static final int LINEAR_DIM_HEAD = 32;

  private final UViTConfig config;
  private final Parameters parameters;
  private final Resample.Layer initConv;
  private final Resample.Layer unpatchify;
  private final TimeEmbedding.Embedding timeEmbedding;
  private final Linear timeLinear1;
  private final Linear timeLinear2;
  private final List<Level> downs = new ArrayList<>();
  private final List<Level> ups = new ArrayList<>();
  private final UViTTransformer vit;
  private final ResnetBlock finalResBlock;
  private final Conv finalConv;

  /** One level's layers; {@code resample} runs last going down and first going up. */
  private record Level(ResnetBlock block1, ResnetBlock block2, LinearAttention attn, Resample.Layer resample) {}

  /** LinearAttention with its pre-norm, applied residually. */
  private record LinearAttention(RmsNorm norm, Attention attn) {
    static LinearAttention create(ParamScope s, int dim) {
      RmsNorm norm = RmsNorm.vector(s.child("norm"), dim);
      return new LinearAttention(norm, Attention.linear(s, 2, dim, LINEAR_HEADS, LINEAR_DIM_HEAD, 0, RmsNorm::vector));
    }

    Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
      return tf.math.add(attn.apply(tf, norm.apply(tf, x)), x);
    }
  }

  UViT(Parameters parameters, UViTConfig c) {
    this.config = c;
    this.parameters = parameters;
    ParamScope root = parameters.scope();
    int patch = c.patchSize();
    ParamScope init = root.child("init_conv");
    if (patch == 1) {
      initConv = Conv.same(init, 2, c.channels(), c.initDim(), 7)::apply;
      unpatchify = null;
    } else {
      initConv = c.dualPatchnorm() ? Resample.dualPatchNorm(init, c.channels(), c.initDim(), patch)
          : new Conv(init, 2, c.channels(), c.initDim(), patch, patch, 0, true)::apply;
      unpatchify = Resample.unpatchify(root.child("unpatchify"), c.outDim(), c.channels(), patch);
    }

    int timeDim = 4 * c.dim();
    ParamScope timeMlp = root.child("time_mlp");
    timeEmbedding = TimeEmbedding.learnedSinusoidal(timeMlp.child(0), c.learnedSinusoidalDim(), false);
    timeLinear1 = new Linear(timeMlp.child(1), timeEmbedding.outDim(), timeDim);
    timeLinear2 = new Linear(timeMlp.child(3), timeDim, timeDim);

    int levels = c.levels();
    int[] dims = new int[levels + 1];
    dims[0] = c.initDim();
    for (int i = 0; i < levels; i++) {
      dims[i + 1] = c.dim() * c.dimMults().get(i);
    }
    // PyTorch registers `ups` before `vit`, so create them first to keep state_dict order
    for (int i = 0; i < levels; i++) {
      ParamScope s = root.child("downs").child(i);
      int in = dims[i];
      downs.add(new Level(block(s.child(0), in, in, timeDim), block(s.child(1), in, in, timeDim),
          LinearAttention.create(s.child(2), in),
          Resample.pixelUnshuffle(s.child(3), in, dims[i + 1], c.downsampleFactor().get(i))));
    }
    for (int j = 0; j < levels; j++) {
      int i = levels - 1 - j;
      ParamScope s = root.child("ups").child(j);
      int in = dims[i];
      Resample.Layer upsample = Resample.pixelShuffle(s.child(0), dims[i + 1], in, c.downsampleFactor().get(i));
      ups.add(new Level(block(s.child(1), 2 * in, in, timeDim), block(s.child(2), 2 * in, in, timeDim),
          LinearAttention.create(s.child(3), in), upsample));
    }
    vit = new UViTTransformer(root.child("vit"), dims[levels], timeDim, c.vitDepth(), c.attnDimHead(), c.attnHeads(),
        c.ffMult(), c.vitDropout());
    finalResBlock = block(root.child("final_res_block"), 2 * c.initDim(), c.initDim(), timeDim);
    finalConv = new Conv(root.child("final_conv"), 2, c.initDim(), c.outDim(), 1, 1, 0, true);
  }

  private static ResnetBlock block(ParamScope s, int dim, int dimOut, int timeDim) {
    return new ResnetBlock(s, 2, dim, dimOut, timeDim, 0, RmsNorm::vector);
  }

  @Override
  public UViTConfig config() {
    return config;
  }

  @Override
  public Parameters parameters() {
    return parameters;
  }

  @Override
  public void checkSpatialSize(long[] spatial) {
    NetworkInput.checkDivisible(UViTConfig.TYPE, 2, spatial, config.sizeDivisor(), divisibility());
  }

  private String divisibility() {
    return "must be divisible by " + config.sizeDivisor() + " (patch_size " + config.patchSize()
        + " times the downsample factors " + config.downsampleFactor() + ")";
  }

  @Override
  public Operand<TFloat32> checkSizeWhenRun(Ops tf, Operand<TFloat32> x) {
    return NetworkInput.divisibleWhenRun(tf, UViTConfig.TYPE, 2, x, config.sizeDivisor(), divisibility());
  }

  /** @param time [N] log-SNR */
  @Override
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> time,
      Operand<TFloat32> selfCond, Operand<TInt64> classLabels, Forward fwd) {
    NetworkInput input = NetworkInput.of(tf, this, UViTConfig.TYPE, x, selfCond, classLabels);
    x = initConv.apply(tf, input.x());
    Operand<TFloat32> r = x;
    Operand<TFloat32> t = timeEmbedding.apply(tf, time);
    t = timeLinear2.apply(tf, Functional.gelu(tf, timeLinear1.apply(tf, t)));

    Deque<Operand<TFloat32>> skips = new ArrayDeque<>();
    for (Level l : downs) {
      x = l.block1().apply(tf, x, t, fwd);
      skips.push(x);
      x = l.attn().apply(tf, l.block2().apply(tf, x, t, fwd));
      skips.push(x);
      x = l.resample().apply(tf, x);
    }
    x = vit.apply(tf, x, t, fwd);
    for (Level l : ups) {
      x = l.resample().apply(tf, x);
      x = l.block1().apply(tf, concat(tf, x, skips.pop()), t, fwd);
      x = l.attn().apply(tf, l.block2().apply(tf, concat(tf, x, skips.pop()), t, fwd));
    }
    x = finalResBlock.apply(tf, concat(tf, x, r), t, fwd);
    x = finalConv.apply(tf, x);
    return input.output(tf, unpatchify == null ? x : unpatchify.apply(tf, x));
  }

  private static Operand<TFloat32> concat(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
    return tf.concat(List.of(a, b), tf.constant(-1));
  }
}
