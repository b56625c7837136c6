package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;

/**
 * What a forward pass is built for. Inference graphs have no dropout; training graphs draw
 * dropout masks from stateless random ops seeded per step, one distinct stream per site.
 */
public final class Forward {
  private final Operand<TInt64> seed;
  private long site;

  private Forward(Operand<TInt64> seed) {
    this.seed = seed;
  }

  public static Forward inference() {
    return new Forward(null);
  }

  /** @param seed int64[2], fed per step so each step draws new masks */
  public static Forward training(Operand<TInt64> seed) {
    return new Forward(seed);
  }

  public boolean training() {
    return seed != null;
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
