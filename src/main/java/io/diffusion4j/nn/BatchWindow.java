package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * Where the batch a graph sees sits in the step's whole batch: rows {@code start ...
 * start + size - 1} of {@code full}. A step's whole batch may be split into micro-batches
 * (gradient accumulation) and across workers; random draws are made for the whole batch and then
 * cut to the window, so every example gets the same noise, timestep and dropout mask however the
 * step is split.
 */
public record BatchWindow(Operand<TInt32> start, Operand<TInt32> size, Operand<TInt32> full) {

  /** The whole step in one batch of {@code size} rows. */
  public static BatchWindow whole(Ops tf, Operand<TInt32> size) {
    return new BatchWindow(tf.constant(0), size, size);
  }

  /** Part {@code part} (0-based) of {@code parts} equal parts of {@code size} rows each. */
  public static BatchWindow part(Ops tf, Operand<TInt32> size, Operand<TInt32> part, int parts) {
    return new BatchWindow(tf.math.mul(part, size), size, tf.math.mul(size, tf.constant(parts)));
  }

  /** The size of a batch [N, ...] as a scalar. */
  public static Operand<TInt32> rows(Ops tf, Operand<?> batch) {
    return tf.reshape(tf.slice(tf.shape(batch), tf.constant(new int[] {0}), tf.constant(new int[] {1})),
        tf.constant(new int[0]));
  }

  /** The shape [full, trailing...] to draw for the whole step. */
  public Operand<TInt32> fullShape(Ops tf, Operand<TInt32> trailing) {
    return tf.concat(java.util.List.of(tf.reshape(full, tf.constant(new int[] {1})), trailing), tf.constant(0));
  }

  /** This window's rows of {@code all} [full, ...], with the static shape {@code like} where it is known. */
  public <T extends TType> Operand<T> cut(Ops tf, Operand<T> all, Shape like) {
    int rank = like.numDimensions();
    Operand<TInt32> begin = tf.concat(java.util.List.of(tf.reshape(start, tf.constant(new int[] {1})),
        tf.constant(new int[rank - 1])), tf.constant(0));
    int[] rest = new int[rank - 1];
    java.util.Arrays.fill(rest, -1);
    Operand<TInt32> extent = tf.concat(java.util.List.of(tf.reshape(size, tf.constant(new int[] {1})),
        tf.constant(rest)), tf.constant(0));
    return tf.ensureShape(tf.slice(all, begin, extent), like);
  }
}
