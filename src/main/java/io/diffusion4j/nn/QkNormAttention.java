package io.diffusion4j.nn;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * simple_diffusion's transformer attention over every position of [N, ..., dim]: RMS pre-norm,
 * bias-free linear q, k, v and output, q and k l2-normalised per head and scaled by learned
 * per-feature gains, similarities times a fixed scale (normalised q and k bound them, so the
 * usual 1/sqrt(dim_head) would make the softmax nearly flat), dropout on the attention weights.
 *
 * <p>Parameters: {@code q_scale}, {@code k_scale} (the module's own, so first in state_dict),
 * {@code norm.g}, {@code to_qkv.weight}, {@code to_out.weight}.
 */
public final class QkNormAttention {
  private final int heads;
  private final int dimHead;
  private final float scale;
  private final double dropout;
  private final Operand<TFloat32> qScale;
  private final Operand<TFloat32> kScale;
  private final RmsNorm norm;
  private final Linear toQkv;
  private final Linear toOut;

  public QkNormAttention(ParamScope s, int dim, int heads, int dimHead, double scale, double dropout) {
    this.heads = heads;
    this.dimHead = dimHead;
    this.scale = (float) scale;
    this.dropout = dropout;
    int hidden = heads * dimHead;
    qScale = s.param("q_scale", ParamLayout.same(dimHead), Init.constant(1f));
    kScale = s.param("k_scale", ParamLayout.same(dimHead), Init.constant(1f));
    norm = RmsNorm.vector(s.child("norm"), dim);
    toQkv = Linear.withoutBias(s.child("to_qkv"), dim, 3 * hidden);
    toOut = Linear.withoutBias(s.child("to_out"), hidden, dim);
  }

  /** @param x [N, ..., dim] channels-last; returns the same shape (the residual is the caller's) */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Forward fwd) {
    Operand<TFloat32> qkv = toQkv.apply(tf, norm.apply(tf, x));
    List<Output<TFloat32>> parts = tf.split(tf.constant(-1), qkv, 3L).output();
    // [N, heads, positions, dimHead]
    Operand<TFloat32> q = tf.math.mul(Functional.l2Normalize(tf, Heads.split(tf, parts.get(0), heads, dimHead)), qScale);
    Operand<TFloat32> k = tf.math.mul(Functional.l2Normalize(tf, Heads.split(tf, parts.get(1), heads, dimHead)), kScale);
    Operand<TFloat32> v = Heads.split(tf, parts.get(2), heads, dimHead);
    Operand<TFloat32> sim = tf.math.mul(Functional.batchMatMul(tf, q, k, false, true), tf.constant(scale));
    Operand<TFloat32> attn = Functional.dropout(tf, tf.nn.softmax(sim), dropout, fwd);
    Operand<TFloat32> out = Heads.merge(tf, Functional.batchMatMul(tf, attn, v, false, false), x, heads * dimHead);
    return toOut.apply(tf, out);
  }
}
