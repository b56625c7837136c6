package io.diffusion4j.sampling;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Value;
import java.util.Map;
import java.util.stream.IntStream;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A run's way through its schedule's noise levels sigma_0 > ... > sigma_n = 0, as the
 * {@link SessionDriver} takes it: the positions it visits, from 0 to n, where a move one position
 * down is a solver step and a move up is a jump back by forward noising, x + sqrt(sigma_to^2 -
 * sigma_from^2) n; and what it changes on the way (before every step, and in the finished images),
 * with the inputs those changes read. {@link #DOWN} is plain sampling.
 */
public interface Walk {

  /** Every level once, downwards, changing nothing. */
  Walk DOWN = steps -> IntStream.rangeClosed(0, steps).toArray();

  /** The positions visited in a schedule of {@code steps} steps: 0 first, {@code steps} last. */
  int[] positions(int steps);

  /** x at level {@code sigma} as the step from there takes it; it may draw the step's noise. */
  default Value beforeStep(Step step, Value x, Value sigma) {
    return x;
  }

  /** The finished images, in data space, from the model's. */
  default Operand<TFloat32> finish(Ops tf, Operand<TFloat32> images) {
    return images;
  }

  /** What the changes read for images {@code first} .. {@code first + n - 1}, by placeholder. */
  default Map<Operand<TFloat32>, FloatArray> inputs(long first, int n) {
    return Map.of();
  }

  /** Whether a self-conditioned network takes the estimate of the step before. */
  default boolean selfConditions() {
    return true;
  }
}
