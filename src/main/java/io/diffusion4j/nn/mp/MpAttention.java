package io.diffusion4j.nn.mp;

import io.diffusion4j.nn.Functional;
import io.diffusion4j.nn.Heads;
import io.diffusion4j.nn.Init;
import io.diffusion4j.nn.ParamLayout;
import io.diffusion4j.nn.ParamScope;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The Karras U-Nets' self-attention: MP 1x1 conv to q, k, v; learned memory key/values
 * prepended to the keys; q, k and v pixel-normed over each head's features (cosine attention);
 * softmax(q k^T / sqrt(dim_head)) v; MP 1x1 conv back to the channels; MP sum with the input.
 *
 * <p>Parameters: {@code mem_kv} [2, heads, num_mem_kv, dim_head] (randn), {@code to_qkv.weight},
 * {@code to_out.weight}. Volumes attend over all positions, or (factorised space-time attention)
 * over each frame's plane ({@link Axes#SPACE}) or over each pixel's frames ({@link Axes#TIME}).
 * The output projection always maps heads x dim_head channels back to the input's, so any
 * dim_head works in every rank (the reference's 3-D attention requires heads x dim_head = dim).
 *
 * <p>TensorFlow has no fused attention kernel on CPU, so the reference's {@code flash} option
 * computes the same maths through the same two batched matmuls.
 */
public final class MpAttention {
  /** Which positions attend to each other. */
  public enum Axes {
    /** every position of the activation */
    ALL,
    /** each frame's plane separately (volumes only) */
    SPACE,
    /** each pixel's frames separately (volumes only) */
    TIME
  }

  private final int heads;
  private final int dimHead;
  private final double mpAddT;
  private final Axes axes;
  private final Operand<TFloat32> memKv;
  private final MpConv toQkv;
  private final MpConv toOut;

  /**
   * @param spatialRank 1, 2 or 3 (the rank of the data; sequences run as [N, 1, L, C])
   * @param mpAddT t of the MP sum of the attention output (first) and the input
   */
  public MpAttention(ParamScope s, int spatialRank, int dim, int heads, int dimHead, int numMemKv, double mpAddT,
      Axes axes) {
    if (axes != Axes.ALL && spatialRank != 3) {
      throw new IllegalArgumentException("space or time attention needs volumes, got spatial rank " + spatialRank);
    }
    this.heads = heads;
    this.dimHead = dimHead;
    this.mpAddT = mpAddT;
    this.axes = axes;
    int hidden = heads * dimHead;
    this.memKv = s.param("mem_kv", ParamLayout.same(2, heads, numMemKv, dimHead), Init.normal(1));
    this.toQkv = MpConv.conv(s.child("to_qkv"), spatialRank, dim, 3 * hidden, 1, false);
    this.toOut = MpConv.conv(s.child("to_out"), spatialRank, hidden, dim, 1, false);
  }

  /** @param x [N, H, W, C] (sequences [N, 1, L, C]) or [N, D, H, W, C]; returns the same shape */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    long[] shape = x.shape().asArray();
    int hidden = heads * dimHead;
    Operand<TFloat32> qkv = toQkv.apply(tf, x);
    // [B', P, 3 hidden]: B' batches of P positions that attend to each other
    long positions;
    switch (axes) {
      case SPACE -> {
        positions = shape[2] * shape[3];
        qkv = tf.reshape(qkv, tf.constant(new long[] {-1, positions, 3L * hidden}));
      }
      case TIME -> {
        positions = shape[1];
        qkv = tf.linalg.transpose(qkv, tf.constant(new int[] {0, 2, 3, 1, 4}));
        qkv = tf.reshape(qkv, tf.constant(new long[] {-1, positions, 3L * hidden}));
      }
      default -> {
        positions = 1;
        for (int i = 1; i < shape.length - 1; i++) {
          positions *= shape[i];
        }
        qkv = tf.reshape(qkv, tf.constant(new long[] {-1, positions, 3L * hidden}));
      }
    }
    List<Output<TFloat32>> parts = tf.split(tf.constant(-1), qkv, 3L).output();
    // [B', heads, P, dim_head]
    Operand<TFloat32> q = Heads.split(tf, parts.get(0), positions, heads, dimHead);
    Operand<TFloat32> k = Heads.split(tf, parts.get(1), positions, heads, dimHead);
    Operand<TFloat32> v = Heads.split(tf, parts.get(2), positions, heads, dimHead);
    k = tf.concat(List.of(memory(tf, 0, q), k), tf.constant(2));
    v = tf.concat(List.of(memory(tf, 1, q), v), tf.constant(2));
    q = Mp.pixelNorm(tf, q);
    k = Mp.pixelNorm(tf, k);
    v = Mp.pixelNorm(tf, v);
    Operand<TFloat32> sim = tf.math.mul(
        Functional.batchMatMul(tf, q, k, false, true),
        tf.constant((float) Math.pow(dimHead, -0.5)));
    Operand<TFloat32> attended = Functional.batchMatMul(tf, tf.nn.softmax(sim), v, false, false);
    // channel = head * dim_head + d, back in the activation's layout
    Operand<TFloat32> out = switch (axes) {
      case SPACE -> Heads.merge(tf, attended, new long[] {-1, shape[1], shape[2], shape[3], hidden}, hidden);
      case TIME -> tf.linalg.transpose(
          Heads.merge(tf, attended, new long[] {-1, shape[2], shape[3], shape[1], hidden}, hidden),
          tf.constant(new int[] {0, 3, 1, 2, 4}));
      default -> Heads.merge(tf, attended, shape, hidden);
    };
    return Mp.add(tf, toOut.apply(tf, out), x, mpAddT);
  }

  /** The renormalisation ops of the projections. */
  public List<Op> renormalize(Ops tf) {
    return List.of(toQkv.renormalize(tf), toOut.renormalize(tf));
  }

  /** mem_kv[index] ([heads, M, dim_head]) repeated over the batch of {@code like}. */
  private Operand<TFloat32> memory(Ops tf, int index, Operand<TFloat32> like) {
    return Heads.overBatch(tf, tf.gather(memKv, tf.constant(index), tf.constant(0)), like);
  }

}
