package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * What a forward pass is built for. Inference graphs have no dropout; training graphs draw
 * dropout masks from stateless random ops seeded per step, one distinct stream per site, for the
 * step's whole batch and cut to the rows this graph sees (its {@link BatchWindow}).
 */
public final class Forward {
  private final Operand<TInt64> seed;
  private final BatchWindow window;
  private long site;

  private Forward(Operand<TInt64> seed, BatchWindow window) {
    this.seed = seed;
    this.window = window;
  }

  public static Forward inference() {
    return new Forward(null, null);
  }

  /** @param seed int64[2], fed per step so each step draws new masks; the batch is the whole step */
  public static Forward training(Operand<TInt64> seed) {
    return new Forward(seed, null);
  }

  /** As {@link #training(Operand)} for a batch that is {@code window} of the step's. */
  public static Forward training(Operand<TInt64> seed, BatchWindow window) {
    return new Forward(seed, window);
  }

  /** Where the batch sits in the step's; null: it is the whole step. */
  public BatchWindow window() {
    return window;
  }

  public boolean training() {
    return seed != null;
  }

  /**
   * Uniform values in [0, 1) of {@code shape} for the next random site: drawn for the step's whole
   * batch and cut to this graph's rows, so every example gets the same values however the step is
   * split.
   *
   * @param like the static shape of the result, where it is known
   */
  public Operand<TFloat32> uniform(Ops tf, Operand<TInt32> shape, Shape like) {
    Operand<TInt64> s = nextSeed(tf);
    if (window == null) {
      return Random.uniform(tf, shape, s);
    }
    Operand<TInt32> trailing = tf.slice(shape, tf.constant(new int[] {1}), tf.constant(new int[] {-1}));
    return window.cut(tf, Random.uniform(tf, window.fullShape(tf, trailing), s), like);
  }

  /** A seed for the next random site of the graph, derived from the step seed. */
  public Operand<TInt64> nextSeed(Ops tf) {
    if (seed == null) {
      throw new IllegalStateException("randomness requested in an inference graph");
    }
    site++;
    return tf.math.add(seed, tf.constant(new long[] {0, site * 0x9E3779B97F4A7C15L}));
  }
}
