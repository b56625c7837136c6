package io.diffusion4j.models;

import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Functional;
import io.diffusion4j.nn.ParamScope;
import io.diffusion4j.nn.mp.Gain;
import io.diffusion4j.nn.mp.LinearResample;
import io.diffusion4j.nn.mp.Mp;
import io.diffusion4j.nn.mp.MpAttention;
import io.diffusion4j.nn.mp.MpConv;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * One block of the Karras U-Nets (the reference's Encoder and Decoder, EDM2's Block), in an
 * encoder or a decoder flavour:
 *
 * <pre>
 * encoder: [bilinear /2, 1x1 conv]  pixel norm  -> res
 * decoder: [bilinear x2]                        -> res = 1x1 conv (when widths differ)
 * both:    x = conv3(mp_silu(x)) * (gain * linear(emb) + 1)
 *          x = mp_add(conv3(dropout(mp_silu(x))), res, t)
 *          [attention]
 * </pre>
 *
 * <p>Parameter names as the reference's state_dict: {@code downsample_conv} (encoder),
 * {@code to_emb.0}, {@code to_emb.1.gain}, {@code block1.1}, {@code block2.2}, {@code res_conv}
 * (decoder), {@code attn} (or {@code attn.0} space and {@code attn.1} time when factorised).
 */
final class KarrasBlock {
  private static final int NUM_MEM_KV = 4;

  /** What a block is: every dimension and switch the reference's constructor arguments give it. */
  record Spec(boolean encoder, int in, int out, int[] resample, boolean attn, boolean factorizedAttn) {
    /** An encoder or decoder at a fixed resolution. */
    static Spec plain(boolean encoder, int in, int out, boolean attn) {
      return new Spec(encoder, in, out, null, attn, false);
    }

    /** A decoder that consumes a skip connection (every decoder but the upsampling ones). */
    boolean needsSkip() {
      return !encoder && resample == null;
    }
  }

  private final Spec spec;
  private final double resnetMpAddT;
  private final double dropout;
  private final MpConv downsampleConv;
  private final MpConv toEmb;
  private final Gain embGain;
  private final MpConv conv1;
  private final MpConv conv2;
  private final MpConv resConv;
  private final List<MpAttention> attn = new ArrayList<>();

  /**
   * @param spec {@code resample} holds the factor (1 or 2) of every axis of the internal layout
   *     (sequences [1, L], images [H, W], volumes [D, H, W]); null for no resampling
   */
  KarrasBlock(ParamScope s, KarrasUnetConfig c, Spec spec) {
    this.spec = spec;
    this.resnetMpAddT = c.resnetMpAddT();
    this.dropout = c.dropout();
    int rank = c.spatialRank();
    int embDim = 4 * c.dim();
    int width = spec.in();
    // created in the reference's registration order, which is its state_dict order
    if (spec.encoder() && spec.resample() != null) {
      downsampleConv = MpConv.conv(s.child("downsample_conv"), rank, width, spec.out(), 1, false);
      width = spec.out();
    } else {
      downsampleConv = null;
    }
    toEmb = MpConv.linear(s.child("to_emb").child(0), embDim, spec.out());
    embGain = new Gain(s.child("to_emb").child(1));
    conv1 = MpConv.conv(s.child("block1").child(1), rank, width, spec.out(), 3, false);
    conv2 = MpConv.conv(s.child("block2").child(2), rank, spec.out(), spec.out(), 3, false);
    resConv = !spec.encoder() && spec.in() != spec.out()
        ? MpConv.conv(s.child("res_conv"), rank, spec.in(), spec.out(), 1, false)
        : null;
    if (spec.attn()) {
      int heads = Math.max((spec.out() + c.attnDimHead() - 1) / c.attnDimHead(), 2);
      if (spec.factorizedAttn()) {
        attn.add(new MpAttention(s.child("attn").child(0), rank, spec.out(), heads, c.attnDimHead(), NUM_MEM_KV,
            c.attnResMpAddT(), MpAttention.Axes.SPACE));
        attn.add(new MpAttention(s.child("attn").child(1), rank, spec.out(), heads, c.attnDimHead(), NUM_MEM_KV,
            c.attnResMpAddT(), MpAttention.Axes.TIME));
      } else {
        attn.add(new MpAttention(s.child("attn"), rank, spec.out(), heads, c.attnDimHead(), NUM_MEM_KV,
            c.attnResMpAddT(), MpAttention.Axes.ALL));
      }
    }
  }

  Spec spec() {
    return spec;
  }

  /**
   * @param x the internal channels-last activation ([N, 1, L, C], [N, H, W, C] or [N, D, H, W, C])
   * @param emb [N, 4 dim], the MP-SiLU'd time (and class) embedding
   */
  Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> emb, Forward fwd) {
    Operand<TFloat32> res;
    if (spec.encoder()) {
      if (downsampleConv != null) {
        x = downsampleConv.apply(tf, LinearResample.down(tf, x, spec.resample()));
      }
      x = Mp.pixelNorm(tf, x);
      res = x;
    } else {
      if (spec.resample() != null) {
        x = LinearResample.up(tf, x, spec.resample());
      }
      res = resConv == null ? x : resConv.apply(tf, x);
    }
    x = conv1.apply(tf, Mp.silu(tf, x));
    Operand<TFloat32> scale = tf.math.add(embGain.apply(tf, toEmb.apply(tf, emb)), tf.constant(1f));
    long[] broadcast = new long[x.shape().numDimensions()];
    Arrays.fill(broadcast, 1);
    broadcast[0] = -1;
    broadcast[broadcast.length - 1] = spec.out();
    x = tf.math.mul(x, tf.reshape(scale, tf.constant(broadcast)));
    x = conv2.apply(tf, Functional.dropout(tf, Mp.silu(tf, x), dropout, fwd));
    x = Mp.add(tf, x, res, resnetMpAddT);
    for (MpAttention a : attn) {
      x = a.apply(tf, x);
    }
    return x;
  }

  /** The forced weight normalisation ops of every MP layer in the block. */
  List<Op> renormalize(Ops tf) {
    List<Op> ops = new ArrayList<>();
    for (MpConv conv : new MpConv[] {downsampleConv, toEmb, conv1, conv2, resConv}) {
      if (conv != null) {
        ops.add(conv.renormalize(tf));
      }
    }
    attn.forEach(a -> ops.addAll(a.renormalize(tf)));
    return ops;
  }
}
