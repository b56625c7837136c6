package io.diffusion4j.nn;

import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/** The reshapes every multi-head attention makes around its two batched matmuls. */
public final class Heads {
  private Heads() {}

  /**
   * [N, ..., heads * dimHead] (any spatial layout) to [N, heads, positions, dimHead]. With a
   * spatial size unknown when the graph is built (a fully convolutional export), the positions
   * are counted when it runs.
   */
  public static Operand<TFloat32> split(Ops tf, Operand<TFloat32> t, int heads, int dimHead) {
    long positions = positions(t.shape().asArray());
    if (positions > 0) {
      return split(tf, t, positions, heads, dimHead);
    }
    Operand<TInt64> shape = tf.concat(List.of(batch(tf, t), tf.constant(new long[] {-1, heads, dimHead})),
        tf.constant(0));
    return tf.linalg.transpose(tf.reshape(t, shape), tf.constant(new int[] {0, 2, 1, 3}));
  }

  /** [N, positions, heads * dimHead] to [N, heads, positions, dimHead]. */
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

  /** As {@link #merge(Ops, Operand, long[], long)} to the layout of {@code like}, whose spatial size may be unknown. */
  public static Operand<TFloat32> merge(Ops tf, Operand<TFloat32> t, Operand<TFloat32> like, long channels) {
    long[] s = like.shape().asArray();
    if (positions(s) > 0) {
      return merge(tf, t, s, channels);
    }
    s[0] = -1;
    s[s.length - 1] = channels;
    Operand<TFloat32> heads = tf.linalg.transpose(t, tf.constant(new int[] {0, 2, 1, 3}));
    Operand<TInt64> spatial = tf.slice(tf.shape(like, TInt64.class), tf.constant(new int[] {0}),
        tf.constant(new int[] {s.length - 1}));
    Operand<TFloat32> out = tf.reshape(heads, tf.concat(List.of(spatial, tf.constant(new long[] {channels})),
        tf.constant(0)));
    // the reshape's shape is known only when it runs: keep the channels static for the layers after it
    return tf.ensureShape(out, Shape.of(s));
  }

  /** The number of spatial positions of [N, ..., C], or -1 when a spatial size is unknown. */
  private static long positions(long[] shape) {
    long positions = 1;
    for (int i = 1; i < shape.length - 1; i++) {
      if (shape[i] < 0) {
        return -1;
      }
      positions *= shape[i];
    }
    return positions;
  }

  private static Operand<TInt64> batch(Ops tf, Operand<TFloat32> t) {
    return tf.slice(tf.shape(t, TInt64.class), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
  }

  /** {@code m} repeated over the batch of {@code like}: a leading batch axis. */
  public static Operand<TFloat32> overBatch(Ops tf, Operand<TFloat32> m, Operand<TFloat32> like) {
    Operand<TInt32> batch = tf.slice(tf.shape(like), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    int[] ones = new int[m.shape().numDimensions()];
    Arrays.fill(ones, 1);
    Operand<TInt32> multiples = tf.concat(List.of(batch, tf.constant(ones)), tf.constant(0));
    return tf.tile(tf.expandDims(m, tf.constant(0)), multiples);
  }
}
