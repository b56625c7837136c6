package io.diffusion4j.nn;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Multi-head attention over every position of a channels-last activation, full (softmax over
 * keys) or linear (Shen et al.: softmax over features of q and over positions of k, cost linear in
 * the positions), with optional learned memory key/values prepended to the keys.
 *
 * <p>Parameters: {@code to_qkv.weight} (1x1 conv, no bias), {@code mem_kv}, and {@code to_out}
 * (a conv for full attention; conv {@code to_out.0} then RMSNorm {@code to_out.1} for linear).
 * The pre-norm is the caller's: its place in the parameter tree differs between 1-D and 2-D.
 *
 * <p>TensorFlow has no fused attention kernel on CPU, so {@code flash_attn} computes the same
 * maths through the same two batched matmuls.
 */
public final class Attention {
  private final boolean linear;
  private final int heads;
  private final int dimHead;
  private final int numMemKv;
  private final Conv toQkv;
  private final Operand<TFloat32> memKv;
  private final Conv toOut;
  private final RmsNorm outNorm;

  public static Attention full(ParamScope s, int spatialRank, int dim, int heads, int dimHead, int numMemKv) {
    return new Attention(s, false, spatialRank, dim, heads, dimHead, numMemKv, null);
  }

  public static Attention linear(ParamScope s, int spatialRank, int dim, int heads, int dimHead, int numMemKv) {
    return linear(s, spatialRank, dim, heads, dimHead, numMemKv, RmsNorm.channelsFirst(spatialRank));
  }

  /** Linear attention whose output norm {@code norms} makes (the gain's PyTorch shape differs by model). */
  public static Attention linear(ParamScope s, int spatialRank, int dim, int heads, int dimHead, int numMemKv,
      RmsNorm.Factory norms) {
    return new Attention(s, true, spatialRank, dim, heads, dimHead, numMemKv, norms);
  }

  private Attention(ParamScope s, boolean linear, int spatialRank, int dim, int heads, int dimHead,
      int numMemKv, RmsNorm.Factory norms) {
    this.linear = linear;
    this.heads = heads;
    this.dimHead = dimHead;
    this.numMemKv = numMemKv;
    int hidden = heads * dimHead;
    // PyTorch registers mem_kv before to_qkv, so it comes first in state_dict
    long[] memShape = linear ? new long[] {2, heads, dimHead, numMemKv} : new long[] {2, heads, numMemKv, dimHead};
    this.memKv = numMemKv > 0 ? s.param("mem_kv", ParamLayout.same(memShape), Init.normal(1)) : null;
    this.toQkv = new Conv(s.child("to_qkv"), spatialRank, dim, 3 * hidden, 1, 1, 0, false);
    if (linear) {
      this.toOut = new Conv(s.child("to_out").child(0), spatialRank, hidden, dim, 1, 1, 0, true);
      this.outNorm = norms.create(s.child("to_out").child(1), dim);
    } else {
      this.toOut = new Conv(s.child("to_out"), spatialRank, hidden, dim, 1, 1, 0, true);
      this.outNorm = null;
    }
  }

  /** @param x [N, ..., C] channels-last; returns the same shape */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> qkv = toQkv.apply(tf, x);
    List<Output<TFloat32>> parts = tf.split(tf.constant(-1), qkv, 3L).output();
    // [N, heads, positions, dimHead]
    Operand<TFloat32> q = Heads.split(tf, parts.get(0), heads, dimHead);
    Operand<TFloat32> k = Heads.split(tf, parts.get(1), heads, dimHead);
    Operand<TFloat32> v = Heads.split(tf, parts.get(2), heads, dimHead);
    Operand<TFloat32> out = linear ? linearAttend(tf, q, k, v) : fullAttend(tf, q, k, v);
    out = Heads.merge(tf, out, x, heads * dimHead);
    out = toOut.apply(tf, out);
    return outNorm == null ? out : outNorm.apply(tf, out);
  }

  private Operand<TFloat32> fullAttend(Ops tf, Operand<TFloat32> q, Operand<TFloat32> k, Operand<TFloat32> v) {
    if (memKv != null) {
      k = tf.concat(List.of(memory(tf, 0, q, false), k), tf.constant(2));
      v = tf.concat(List.of(memory(tf, 1, q, false), v), tf.constant(2));
    }
    q = tf.math.mul(q, tf.constant((float) Math.pow(dimHead, -0.5)));
    Operand<TFloat32> sim = Functional.batchMatMul(tf, q, k, false, true);
    return Functional.batchMatMul(tf, tf.nn.softmax(sim), v, false, false);
  }

  private Operand<TFloat32> linearAttend(Ops tf, Operand<TFloat32> q, Operand<TFloat32> k, Operand<TFloat32> v) {
    // k over positions: softmax needs positions last
    Operand<TFloat32> kT = tf.linalg.transpose(k, tf.constant(new int[] {0, 1, 3, 2}));
    if (memKv != null) {
      kT = tf.concat(List.of(memory(tf, 0, q, false), kT), tf.constant(3));
      v = tf.concat(List.of(memory(tf, 1, q, true), v), tf.constant(2));
    }
    q = tf.math.mul(tf.nn.softmax(q), tf.constant((float) Math.pow(dimHead, -0.5)));
    Operand<TFloat32> context = Functional.batchMatMul(tf, tf.nn.softmax(kT), v, false, false);
    return Functional.batchMatMul(tf, q, context, false, false);
  }

  /** mem_kv[index] broadcast over the batch of {@code like}, optionally with its last two axes swapped. */
  private Operand<TFloat32> memory(Ops tf, int index, Operand<TFloat32> like, boolean swap) {
    Operand<TFloat32> m = tf.gather(memKv, tf.constant(index), tf.constant(0));
    if (swap) {
      m = tf.linalg.transpose(m, tf.constant(new int[] {0, 2, 1}));
    }
    return Heads.overBatch(tf, m, like);
  }

}
