package io.diffusion4j.models;

import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.ParamScope;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.mp.Gain;
import io.diffusion4j.nn.mp.Mp;
import io.diffusion4j.nn.mp.MpConv;
import io.diffusion4j.nn.mp.MpFourierEmbedding;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The magnitude-preserving U-Net of Karras et al. 2023 (EDM2, config G: no biases, no group
 * norms, forced weight normalisation, MP sums and concatenations) as the reference's
 * {@code KarrasUnet} (images), {@code KarrasUnet1D} (sequences) and {@code KarrasUnet3D}
 * (videos): one implementation for every rank, with the reference's parameters under its names.
 *
 * <p>The network: an input conv (with a channel of ones in place of a bias); encoders, of which
 * one per downsample halves the resolution (bilinear, no antialiasing) and widens the channels
 * (doubling, capped at dim_max); two middle decoders; decoders in mirror order, each but the
 * upsampling ones taking an encoder's skip through an MP concatenation; an output conv times a
 * gain. Every block is conditioned on the MP-SiLU of the Fourier time embedding (MP-summed with
 * the class embedding of class-conditional networks). Attention sits in the blocks whose image
 * resolution is in attn_res.
 *
 * <p>Differences between the reference files that change parameters or maths are kept: 3-D
 * stages may halve only the image or only the frames (downsample_types), may have their own
 * block counts, and may factorise attention into a spatial and a temporal one; as in the
 * reference, only the downsampling encoders and upsampling decoders factorise it (the other
 * attention blocks of the same network attend over all positions). 1-D sequences run as images of
 * height 1; their linear resampling is the 2-D one over that height.
 *
 * <p>Where the reference is inconsistent, this does the consistent thing: its 3-D attention
 * requires heads x attn_dim_head to equal the channels (it reshapes before projecting back), here
 * any attn_dim_head works in every rank; and it accepts resnet_mp_add_t but never passes it to its
 * blocks (they always use 0.3), here it is the t of the blocks' residual MP sums. At the default
 * 0.3 the networks are the same.
 *
 * <p>Time is the reference's continuous noise-level input (EDM's c_noise), the pairing EDM2 is made
 * for. Inside GaussianDiffusion the reference feeds it the integer timesteps, and diffusion4j keeps
 * that pairing for compatibility (see reference-pitfalls.md): its time input is {@code ANY}.
 */
public final class KarrasUnet implements Network {
  private final KarrasUnetConfig config;
  private final Parameters parameters;
  private final MpConv inputBlock;
  private final MpConv outputConv;
  private final Gain outputGain;
  private final MpFourierEmbedding fourier;
  private final MpConv toTimeEmb;
  private final MpConv toClassEmb;
  private final List<KarrasBlock> downs = new ArrayList<>();
  private final List<KarrasBlock> ups = new ArrayList<>();
  private final List<KarrasBlock> mids = new ArrayList<>();

  /** Creates the network's variables in {@code tf}'s graph, named as the reference's state_dict. */
  public static KarrasUnet create(Ops tf, KarrasUnetConfig config) {
    return create(new Parameters(tf), config);
  }

  /** Builds the network on {@code parameters}, variables or operands bound by name. */
  public static KarrasUnet create(Parameters parameters, KarrasUnetConfig config) {
    return new KarrasUnet(parameters, config);
  }

  private KarrasUnet(Parameters parameters, KarrasUnetConfig c) {
    this.config = c;
    this.parameters = parameters;
    int rank = c.spatialRank();
    ParamScope root = parameters.scope();
    int inputChannels = c.channels() * (c.selfCondition() ? 2 : 1);
    // the reference's registration (= state_dict) order: input, output, time, class, downs, ups, mids
    inputBlock = MpConv.conv(root.child("input_block"), rank, inputChannels, c.dim(), 3, true);
    outputConv = MpConv.conv(root.child("output_block").child(0), rank, c.dim(), c.channels(), 3, false);
    outputGain = new Gain(root.child("output_block").child(1));
    fourier = new MpFourierEmbedding(root.child("to_time_emb").child(0), c.fourierDim());
    toTimeEmb = MpConv.linear(root.child("to_time_emb").child(1), c.fourierDim(), 4 * c.dim());
    toClassEmb = c.numClasses() > 0 ? MpConv.linear(root.child("to_class_emb"), c.numClasses(), 4 * c.dim()) : null;

    Layout layout = layout(c);
    for (int i = 0; i < layout.downs().size(); i++) {
      downs.add(new KarrasBlock(root.child("downs").child(i), c, layout.downs().get(i)));
    }
    for (int i = 0; i < layout.ups().size(); i++) {
      ups.add(new KarrasBlock(root.child("ups").child(i), c, layout.ups().get(i)));
    }
    for (int i = 0; i < layout.mids().size(); i++) {
      mids.add(new KarrasBlock(root.child("mids").child(i), c, layout.mids().get(i)));
    }
  }

  /** The blocks of a network, in the order of its ModuleLists. */
  record Layout(List<KarrasBlock.Spec> downs, List<KarrasBlock.Spec> ups, List<KarrasBlock.Spec> mids) {}

  /**
   * The encoder and decoder blocks as the reference lays them out: encoders appended, decoders
   * prepended (so ups runs from the innermost to the outermost), one skip per encoder plus the
   * input block's.
   */
  static Layout layout(KarrasUnetConfig c) {
    List<KarrasBlock.Spec> downs = new ArrayList<>();
    Deque<KarrasBlock.Spec> ups = new ArrayDeque<>();
    boolean video = c.spatialRank() == 3;
    int dim = c.dim();
    long imageRes = c.size();
    ups.addFirst(KarrasBlock.Spec.plain(false, 2 * dim, dim, false));
    for (int b = 0; b < c.numBlocksPerStage().get(0); b++) {
      downs.add(KarrasBlock.Spec.plain(true, dim, dim, false));
      ups.addFirst(KarrasBlock.Spec.plain(false, 2 * dim, dim, false));
    }
    for (int i = 0; i < c.numDownsamples(); i++) {
      int out = Math.min(c.dimMax(), 2 * dim);
      String type = c.downsampleTypes().get(i);
      boolean image = !type.equals("frame");
      boolean frames = video && !type.equals("image");
      int[] factors = switch (c.spatialRank()) {
        case 1 -> new int[] {1, 2};
        case 2 -> new int[] {2, 2};
        default -> new int[] {frames ? 2 : 1, image ? 2 : 1, image ? 2 : 1};
      };
      boolean factorized = video && c.factorizeSpaceTimeAttn();
      KarrasBlock.Spec upsample = new KarrasBlock.Spec(false, out, dim, factors, c.hasAttnAt((int) imageRes), factorized);
      imageRes = image ? imageRes / 2 : imageRes;
      boolean attn = c.hasAttnAt((int) imageRes);
      downs.add(new KarrasBlock.Spec(true, dim, out, factors, attn, factorized));
      ups.addFirst(upsample);
      ups.addFirst(KarrasBlock.Spec.plain(false, 2 * out, out, attn));
      for (int b = 0; b < c.numBlocksPerStage().get(i + 1); b++) {
        downs.add(KarrasBlock.Spec.plain(true, out, out, attn));
        ups.addFirst(KarrasBlock.Spec.plain(false, 2 * out, out, attn));
      }
      dim = out;
    }
    boolean midAttn = c.hasAttnAt((int) imageRes);
    List<KarrasBlock.Spec> mids = List.of(KarrasBlock.Spec.plain(false, dim, dim, midAttn),
        KarrasBlock.Spec.plain(false, dim, dim, midAttn));
    return new Layout(downs, new ArrayList<>(ups), mids);
  }

  @Override
  public KarrasUnetConfig config() {
    return config;
  }

  @Override
  public Parameters parameters() {
    return parameters;
  }

  /** The reference asserts the exact size it was built for (attention placement depends on it). */
  @Override
  public void checkSpatialSize(long[] spatial) {
    long[] expected = config.spatialShape();
    if (!Arrays.equals(spatial, expected)) {
      throw new IllegalArgumentException(config.type() + " was built for inputs of spatial size "
          + Arrays.toString(expected) + " (" + (config.spatialRank() == 1 ? "seq_len" : config.spatialRank() == 3
          ? "frames, image_size, image_size" : "image_size, image_size") + "), got " + Arrays.toString(spatial));
    }
  }

  @Override
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> time,
      Operand<TFloat32> selfCond, Operand<TInt64> classLabels, Forward fwd) {
    NetworkInput input = NetworkInput.of(tf, this, config.type(), x, selfCond, classLabels);

    Operand<TFloat32> emb = toTimeEmb.apply(tf, fourier.apply(tf, time));
    if (toClassEmb != null) {
      int k = config.numClasses();
      Operand<TFloat32> oneHot = tf.oneHot(classLabels, tf.constant(k), tf.constant((float) Math.sqrt(k)),
          tf.constant(0f));
      emb = Mp.add(tf, emb, toClassEmb.apply(tf, oneHot), config.mpAddEmbT());
    }
    emb = Mp.silu(tf, emb);

    x = inputBlock.apply(tf, input.x());
    Deque<Operand<TFloat32>> skips = new ArrayDeque<>();
    skips.push(x);
    for (KarrasBlock block : downs) {
      x = block.apply(tf, x, emb, fwd);
      skips.push(x);
    }
    for (KarrasBlock block : mids) {
      x = block.apply(tf, x, emb, fwd);
    }
    for (KarrasBlock block : ups) {
      if (block.spec().needsSkip()) {
        x = Mp.cat(tf, x, skips.pop(), config.mpCatT());
      }
      x = block.apply(tf, x, emb, fwd);
    }
    return input.output(tf, outputGain.apply(tf, outputConv.apply(tf, x)));
  }

  /**
   * Forced weight normalisation for training: one {@code assign(w, normalize_weight(w))} per MP
   * conv and linear layer (the frozen Fourier frequencies, the gains and the memory key/values are
   * not normalised). Run after every optimiser update, they keep every stored weight at norm
   * sqrt(fan_in) per output unit. The reference instead copies normalize_weight(w) into w at the
   * start of every training forward; since weights change only at optimiser updates and
   * normalising a normalised weight is the identity, renormalising right after each update gives
   * every forward the same weights. (Run them once after initialisation too, to match the
   * reference's first step exactly.) Each call builds new ops.
   */
  @Override
  public List<Op> weightConstraints(Ops tf) {
    List<Op> ops = new ArrayList<>();
    ops.add(inputBlock.renormalize(tf));
    ops.add(outputConv.renormalize(tf));
    ops.add(toTimeEmb.renormalize(tf));
    if (toClassEmb != null) {
      ops.add(toClassEmb.renormalize(tf));
    }
    for (List<KarrasBlock> blocks : List.of(downs, ups, mids)) {
      blocks.forEach(b -> ops.addAll(b.renormalize(tf)));
    }
    return ops;
  }
}
