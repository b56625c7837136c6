package io.diffusion4j.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 *
 * <p>A training objective may see several copies of the step's batch (XMWrapper's candidates):
 * the window then covers copies {@code firstCopy ... firstCopy + count - 1} of {@code copies},
 * its rows those of each copy in turn. Draws per example (timesteps, noise levels) are shared by
 * the copies, every other draw (the noise, dropout) is each copy's own.
 */
public record BatchWindow(Operand<TInt32> start, Operand<TInt32> size, Operand<TInt32> full, int firstCopy, int count,
    int copies) {

  public BatchWindow(Operand<TInt32> start, Operand<TInt32> size, Operand<TInt32> full) {
    this(start, size, full, 0, 1, 1);
  }

  public BatchWindow {
    if (count < 1 || firstCopy < 0 || firstCopy + count > copies) {
      throw new IllegalArgumentException("copies " + firstCopy + ".." + (firstCopy + count - 1) + " of " + copies
          + " are not a range of copies");
    }
  }

  /** The whole step in one batch of {@code size} rows. */
  public static BatchWindow whole(Ops tf, Operand<TInt32> size) {
    return new BatchWindow(tf.constant(0), size, size);
  }

  /** Part {@code part} (0-based) of {@code parts} equal parts of {@code size} rows each. */
  public static BatchWindow part(Ops tf, Operand<TInt32> size, Operand<TInt32> part, int parts) {
    return new BatchWindow(tf.math.mul(part, size), size, tf.math.mul(size, tf.constant(parts)));
  }

  /** This window's rows in copies {@code first ... first + count - 1} of {@code copies} of the step's batch. */
  public BatchWindow copies(int first, int count, int copies) {
    if (this.copies != 1) {
      throw new IllegalStateException("a window over copies cannot be copied again");
    }
    return new BatchWindow(start, size, full, first, count, copies);
  }

  /** The size of a batch [N, ...] as a scalar. */
  public static Operand<TInt32> rows(Ops tf, Operand<?> batch) {
    return tf.reshape(tf.slice(tf.shape(batch), tf.constant(new int[] {0}), tf.constant(new int[] {1})),
        tf.constant(new int[0]));
  }

  /** The shape [full x copies, trailing...] to draw for the whole step, a draw per row of every copy. */
  public Operand<TInt32> fullShape(Ops tf, Operand<TInt32> trailing) {
    Operand<TInt32> rows = copies == 1 ? full : tf.math.mul(full, tf.constant(copies));
    return tf.concat(List.of(tf.reshape(rows, tf.constant(new int[] {1})), trailing), tf.constant(0));
  }

  /** The shape [full] of a draw per example, which copies share (see {@link #shared}). */
  public Operand<TInt32> exampleShape(Ops tf) {
    return tf.reshape(full, tf.constant(new int[] {1}));
  }

  /** A draw per example [full] as a draw per row of every copy [full x copies]. */
  public <T extends TType> Operand<T> shared(Ops tf, Operand<T> perExample) {
    return copies == 1 ? perExample : tf.tile(perExample, tf.constant(new int[] {copies}));
  }

  /**
   * This window's rows of {@code all} [full x copies, ...], copy by copy, with the static shape
   * {@code like} where it is known.
   */
  public <T extends TType> Operand<T> cut(Ops tf, Operand<T> all, Shape like) {
    int rank = like.numDimensions();
    int[] rest = new int[rank - 1];
    Arrays.fill(rest, -1);
    Operand<TInt32> extent = tf.concat(List.of(tf.reshape(size, tf.constant(new int[] {1})), tf.constant(rest)),
        tf.constant(0));
    List<Operand<T>> parts = new ArrayList<>();
    for (int copy = firstCopy; copy < firstCopy + count; copy++) {
      Operand<TInt32> first = copy == 0 ? start : tf.math.add(start, tf.math.mul(full, tf.constant(copy)));
      Operand<TInt32> begin = tf.concat(List.of(tf.reshape(first, tf.constant(new int[] {1})),
          tf.constant(new int[rank - 1])), tf.constant(0));
      parts.add(tf.slice(all, begin, extent));
    }
    return tf.ensureShape(parts.size() == 1 ? parts.get(0) : tf.concat(parts, tf.constant(0)), like);
  }
}
