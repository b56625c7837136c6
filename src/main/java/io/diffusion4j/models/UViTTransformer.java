package io.diffusion4j.models;

import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Functional;
import io.diffusion4j.nn.Linear;
import io.diffusion4j.nn.ParamScope;
import io.diffusion4j.nn.QkNormAttention;
import io.diffusion4j.nn.RmsNorm;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * simple_diffusion's Transformer: {@code depth} layers of q/k-normed attention and a feed-forward
 * modulated by the time embedding, each added residually, over every position of the innermost
 * activation (kept [N, H, W, C]: attention sees the H * W positions as the reference's packed
 * sequence). Parameters {@code <s>.layers.<i>.0} (attention) and {@code <s>.layers.<i>.1}.
 */
final class UViTTransformer {
  /** The reference's fixed similarity scale: q and k are l2-normalised. */
  private static final double ATTN_SCALE = 8;

  private final List<QkNormAttention> attns = new ArrayList<>();
  private final List<FeedForward> ffs = new ArrayList<>();

  UViTTransformer(ParamScope s, int dim, int timeDim, int depth, int dimHead, int heads, int ffMult, double dropout) {
    for (int i = 0; i < depth; i++) {
      ParamScope layer = s.child("layers").child(i);
      attns.add(new QkNormAttention(layer.child(0), dim, heads, dimHead, ATTN_SCALE, dropout));
      ffs.add(new FeedForward(layer.child(1), dim, timeDim, ffMult, dropout));
    }
  }

  /** @param t [N, timeDim] */
  Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> t, Forward fwd) {
    for (int i = 0; i < attns.size(); i++) {
      x = tf.math.add(attns.get(i).apply(tf, x, fwd), x);
      x = tf.math.add(ffs.get(i).apply(tf, x, t, fwd), x);
    }
    return x;
  }

  /**
   * Unscaled RMSNorm, bias-free projection to dim * mult, SiLU, then x * (scale + 1) + shift from
   * the time embedding (zero-initialised, so each layer starts unmodulated), dropout, bias-free
   * projection back.
   */
  private static final class FeedForward {
    private final RmsNorm norm;
    private final Linear toScaleShift;
    private final Linear projIn;
    private final Linear projOut;
    private final double dropout;

    FeedForward(ParamScope s, int dim, int condDim, int mult, double dropout) {
      int hidden = dim * mult;
      this.dropout = dropout;
      norm = RmsNorm.unscaled(dim);
      toScaleShift = Linear.zeroInit(s.child("to_scale_shift").child(1), condDim, 2 * hidden);
      projIn = Linear.withoutBias(s.child("proj_in").child(0), dim, hidden);
      projOut = Linear.withoutBias(s.child("proj_out").child(1), hidden, dim);
    }

    Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> t, Forward fwd) {
      Operand<TFloat32> h = Functional.silu(tf, projIn.apply(tf, norm.apply(tf, x)));
      Operand<TFloat32> emb = toScaleShift.apply(tf, Functional.silu(tf, t));
      // [N, 2 * hidden] -> [N, 1, 1, 2 * hidden], over every position
      emb = tf.reshape(emb, tf.constant(new long[] {-1, 1, 1, emb.shape().get(1)}));
      List<Output<TFloat32>> scaleShift = tf.split(tf.constant(-1), emb, 2L).output();
      h = tf.math.add(tf.math.mul(h, tf.math.add(scaleShift.get(0), tf.constant(1f))), scaleShift.get(1));
      return projOut.apply(tf, Functional.dropout(tf, h, dropout, fwd));
    }
  }
}
