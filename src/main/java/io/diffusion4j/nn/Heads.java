package io.diffusion4j.nn;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** The reshapes every multi-head attention makes around its two batched matmuls. */
public final class Heads {
  private Heads() {}

  /** [N, positions, heads * dimHead] (any spatial layout) to [N, heads, positions, dimHead]. */
  public static Operand<TFloat32> split(Ops tf, Operand<TFloat32> t, long positions, int heads, int dimHead) {
    Operand<TFloat32> r = tf.reshape(t, tf.constant(new long[] {-1, positions, heads, dimHead}));
    return tf.linalg.transpose(r, tf.constant(new int[] {0, 2, 1, 3}));
  }

  /** [N, heads, positions, dimHead] back to {@code spatialShape} with heads * dimHead channels. */
  public static Operand<TFloat32> merge(Ops tf, Operand<TFloat32> t, long[] spatialShape, long channels) {
    long[] s = spatialShape.clone();
    s[0] = -1;
    s[s.length - 1] = channels;
    return tf.reshape(tf.linalg.transpose(t, tf.constant(new int[] {0, 2, 1, 3})), tf.constant(s));
  }

  /** {@code m} repeated over the batch of {@code like}: a leading batch axis. */
  public static Operand<TFloat32> overBatch(Ops tf, Operand<TFloat32> m, Operand<TFloat32> like) {
    Operand<TInt32> batch = tf.slice(tf.shape(like), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    int[] ones = new int[m.shape().numDimensions()];
    java.util.Arrays.fill(ones, 1);
    Operand<TInt32> multiples = tf.concat(List.of(batch, tf.constant(ones)), tf.constant(0));
    return tf.tile(tf.expandDims(m, tf.constant(0)), multiples);
  }
}
