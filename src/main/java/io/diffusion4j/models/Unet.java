package io.diffusion4j.models;

import io.diffusion4j.nn.Attention;
import io.diffusion4j.nn.Conv;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Functional;
import io.diffusion4j.nn.Init;
import io.diffusion4j.nn.Linear;
import io.diffusion4j.nn.ParamLayout;
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
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The reference's {@code Unet} (2-D), {@code Unet1D} and {@code classifier_free_guidance.Unet},
 * one implementation for all, with the same parameters under the same names.
 *
 * <p>Sequences run internally as images of height 1. The reference files differ in more than
 * rank, and those differences are kept so that weights load across: Unet1D and the guided Unet
 * keep an earlier layout, which downsamples with a strided conv instead of pixel-unshuffle, has
 * stage attention always linear with 4 heads of 32 and no memory key/values, and wraps its
 * attentions in Residual(PreNorm(...)), which moves their parameter names
 * (downs.0.2.fn.fn.to_qkv.weight rather than downs.0.2.to_qkv.weight). The guided Unet adds a
 * class embedding, its MLP and a null class, and feeds [time, class] embeddings to every block.
 */
public final class Unet implements Network {
  private static final int NUM_MEM_KV = 4;

  private final UnetConfig config;
  /** The guided Unet's options, else null. */
  private final GuidedUnetConfig guided;
  /** The earlier layout of Unet1D and the guided Unet. */
  private final boolean classic;
  private final Parameters parameters;
  private final Operand<TFloat32> nullClassesEmb;
  private final Operand<TFloat32> classesEmb;
  private final Linear classesLinear1;
  private final Linear classesLinear2;
  private final Conv initConv;
  private final TimeEmbedding.Embedding timeEmbedding;
  private final Linear timeLinear1;
  private final Linear timeLinear2;
  private final List<Stage> downs = new ArrayList<>();
  private final List<Stage> ups = new ArrayList<>();
  private final ResnetBlock midBlock1;
  private final PreNormAttention midAttn;
  private final ResnetBlock midBlock2;
  private final ResnetBlock finalResBlock;
  private final Conv finalConv;

  private record Stage(ResnetBlock block1, ResnetBlock block2, PreNormAttention attn,
      Resample.Layer resample) {}

  /** An attention with its pre-norm, applied residually. */
  private record PreNormAttention(RmsNorm norm, Attention attn) {
    Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
      return tf.math.add(attn.apply(tf, norm.apply(tf, x)), x);
    }
  }

  /** Creates the network's variables in {@code tf}'s graph, named as the reference's state_dict. */
  public static Unet create(Ops tf, UnetConfig config) {
    return create(new Parameters(tf), config);
  }

  /** Builds the network on {@code parameters}, variables or operands bound by name. */
  public static Unet create(Parameters parameters, UnetConfig config) {
    return new Unet(parameters, config, null);
  }

  /** The guided Unet on {@code parameters}. */
  public static Unet create(Parameters parameters, GuidedUnetConfig config) {
    return new Unet(parameters, config.unet(), config);
  }

  private Unet(Parameters parameters, UnetConfig c, GuidedUnetConfig guided) {
    this.config = c;
    this.guided = guided;
    this.classic = c.spatialRank() == 1 || guided != null;
    this.parameters = parameters;
    int rank = c.spatialRank();
    ParamScope root = parameters.scope();
    // a module's own parameters come first in its state_dict
    nullClassesEmb = guided == null ? null : root.param("null_classes_emb", ParamLayout.same(c.dim()), Init.normal(1));
    int inputChannels = c.channels() * (c.selfCondition() ? 2 : 1);
    initConv = Conv.same(root.child("init_conv"), rank, inputChannels, c.initDim(), 7);

    int timeDim = 4 * c.dim();
    ParamScope timeMlp = root.child("time_mlp");
    timeEmbedding = c.randomOrLearnedSinusoidalCond()
        ? TimeEmbedding.learnedSinusoidal(timeMlp.child(0), c.learnedSinusoidalDim(), c.randomFourierFeatures())
        : TimeEmbedding.sinusoidal(c.dim(), c.sinusoidalPosEmbTheta());
    timeLinear1 = new Linear(timeMlp.child(1), timeEmbedding.outDim(), timeDim);
    timeLinear2 = new Linear(timeMlp.child(3), timeDim, timeDim);
    int condDim = timeDim;
    if (guided != null) {
      classesEmb = root.child("classes_emb").param("weight", ParamLayout.same(guided.numClasses(), c.dim()), Init.normal(1));
      classesLinear1 = new Linear(root.child("classes_mlp").child(0), c.dim(), 4 * c.dim());
      classesLinear2 = new Linear(root.child("classes_mlp").child(2), 4 * c.dim(), 4 * c.dim());
      condDim += 4 * c.dim();
    } else {
      classesEmb = null;
      classesLinear1 = null;
      classesLinear2 = null;
    }

    int[] dims = new int[c.stages() + 1];
    dims[0] = c.initDim();
    for (int i = 0; i < c.stages(); i++) {
      dims[i + 1] = c.dim() * c.dimMults().get(i);
    }
    int stages = c.stages();
    // PyTorch registers `ups` before the middle blocks, so create them first to keep state_dict order
    for (int i = 0; i < stages; i++) {
      ParamScope s = root.child("downs").child(i);
      int in = dims[i];
      int out = dims[i + 1];
      boolean last = i == stages - 1;
      downs.add(new Stage(
          new ResnetBlock(s.child(0), rank, in, in, condDim, c.dropout()),
          new ResnetBlock(s.child(1), rank, in, in, condDim, c.dropout()),
          stageAttention(s.child(2), in, i),
          last ? Resample.keep(Conv.same(s.child(3), rank, in, out, 3))
              : classic ? Resample.stridedDownsample(s.child(3), rank, in, out)
              : Resample.downsample(s.child(3), rank, in, out)));
    }
    for (int j = 0; j < stages; j++) {
      int i = stages - 1 - j;
      ParamScope s = root.child("ups").child(j);
      int in = dims[i];
      int out = dims[i + 1];
      boolean last = j == stages - 1;
      ups.add(new Stage(
          new ResnetBlock(s.child(0), rank, out + in, out, condDim, c.dropout()),
          new ResnetBlock(s.child(1), rank, out + in, out, condDim, c.dropout()),
          stageAttention(s.child(2), out, i),
          last ? Resample.keep(Conv.same(s.child(3), rank, out, in, 3))
              : Resample.upsample(s.child(3), rank, out, in)));
    }
    int mid = dims[stages];
    midBlock1 = new ResnetBlock(root.child("mid_block1"), rank, mid, mid, condDim, c.dropout());
    List<Integer> heads = c.attnHeads();
    List<Integer> dimHead = c.attnDimHead();
    midAttn = attention(root.child("mid_attn"), mid, true, heads.get(heads.size() - 1), dimHead.get(dimHead.size() - 1));
    midBlock2 = new ResnetBlock(root.child("mid_block2"), rank, mid, mid, condDim, c.dropout());
    finalResBlock = new ResnetBlock(root.child("final_res_block"), rank, 2 * c.initDim(), c.initDim(), condDim, c.dropout());
    finalConv = new Conv(root.child("final_conv"), rank, c.initDim(), c.outDim(), 1, 1, 0, true);
  }

  private PreNormAttention stageAttention(ParamScope s, int dim, int stage) {
    if (classic) {
      return attention(s, dim, false, 4, 32);
    }
    return attention(s, dim, config.fullAttn().get(stage), config.attnHeads().get(stage), config.attnDimHead().get(stage));
  }

  private PreNormAttention attention(ParamScope s, int dim, boolean full, int heads, int dimHead) {
    int rank = config.spatialRank();
    if (classic) {
      // Residual(PreNorm(fn)): PreNorm registers fn before norm
      ParamScope preNorm = s.child("fn");
      Attention attn = full
          ? Attention.full(preNorm.child("fn"), rank, dim, heads, dimHead, 0)
          : Attention.linear(preNorm.child("fn"), rank, dim, heads, dimHead, 0);
      return new PreNormAttention(new RmsNorm(preNorm.child("norm"), rank, dim), attn);
    }
    RmsNorm norm = new RmsNorm(s.child("norm"), 2, dim);
    Attention attn = full
        ? Attention.full(s, 2, dim, heads, dimHead, NUM_MEM_KV)
        : Attention.linear(s, 2, dim, heads, dimHead, NUM_MEM_KV);
    return new PreNormAttention(norm, attn);
  }

  @Override
  public NetworkConfig config() {
    return guided != null ? guided : config;
  }

  /** The config.json type, for messages. */
  private String type() {
    return guided != null ? GuidedUnetConfig.TYPE : config.type();
  }

  @Override
  public Parameters parameters() {
    return parameters;
  }

  @Override
  public void checkSpatialSize(long[] spatial) {
    NetworkInput.checkDivisible(type(), config.spatialRank(), spatial, config.downsampleFactor(), divisibility());
  }

  private String divisibility() {
    return "must be divisible by " + config.downsampleFactor() + " (2^(stages-1) for dim_mults "
        + config.dimMults() + ")";
  }

  @Override
  public Operand<TFloat32> checkSizeWhenRun(Ops tf, Operand<TFloat32> x) {
    return NetworkInput.divisibleWhenRun(tf, type(), config.spatialRank(), x, config.downsampleFactor(), divisibility());
  }

  @Override
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> time,
      Operand<TFloat32> selfCond, Operand<TInt64> classLabels, Forward fwd) {
    NetworkInput input = NetworkInput.of(tf, this, type(), x, selfCond, classLabels);
    x = initConv.apply(tf, input.x());
    Operand<TFloat32> r = x;
    Operand<TFloat32> t = timeEmbedding.apply(tf, time);
    t = timeLinear2.apply(tf, Functional.gelu(tf, timeLinear1.apply(tf, t)));
    if (guided != null) {
      t = tf.concat(List.of(t, classEmbedding(tf, classLabels, fwd)), tf.constant(-1));
    }

    Deque<Operand<TFloat32>> skips = new ArrayDeque<>();
    for (Stage s : downs) {
      x = s.block1().apply(tf, x, t, fwd);
      skips.push(x);
      x = s.attn().apply(tf, s.block2().apply(tf, x, t, fwd));
      skips.push(x);
      x = s.resample().apply(tf, x);
    }
    x = midBlock1.apply(tf, x, t, fwd);
    x = midAttn.apply(tf, x);
    x = midBlock2.apply(tf, x, t, fwd);
    for (Stage s : ups) {
      x = s.block1().apply(tf, concat(tf, x, skips.pop()), t, fwd);
      x = s.block2().apply(tf, concat(tf, x, skips.pop()), t, fwd);
      x = s.resample().apply(tf, s.attn().apply(tf, x));
    }
    x = finalResBlock.apply(tf, concat(tf, x, r), t, fwd);
    return input.output(tf, finalConv.apply(tf, x));
  }

  /**
   * The class MLP over each label's embedding, the null class's for label -1 (and, in training,
   * for each label dropped with probability cond_drop_prob).
   */
  private Operand<TFloat32> classEmbedding(Ops tf, Operand<TInt64> labels, Forward fwd) {
    Operand<TBool> dropped = tf.math.less(labels, tf.constant(0L));
    if (fwd.training() && guided.condDropProb() > 0) {
      Operand<TFloat32> u = fwd.uniform(tf, tf.shape(labels), Shape.of(-1));
      dropped = tf.math.logicalOr(dropped, tf.math.less(u, tf.constant((float) guided.condDropProb())));
    }
    Operand<TFloat32> emb = tf.gather(classesEmb, tf.math.maximum(labels, tf.constant(0L)), tf.constant(0));
    Operand<TFloat32> keep = tf.expandDims(tf.dtypes.cast(tf.math.logicalNot(dropped), TFloat32.class), tf.constant(-1));
    emb = tf.math.add(tf.math.mul(emb, keep), tf.math.mul(tf.math.sub(tf.constant(1f), keep), nullClassesEmb));
    return classesLinear2.apply(tf, Functional.gelu(tf, classesLinear1.apply(tf, emb)));
  }

  private static Operand<TFloat32> concat(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
    return tf.concat(List.of(a, b), tf.constant(-1));
  }
}
