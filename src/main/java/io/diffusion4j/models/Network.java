package io.diffusion4j.models;

import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * A denoising network: maps a noisy channels-last batch and its time (or noise level) to the raw
 * output the diffusion's objective asks for. Built once per graph; {@link #apply} may be called
 * several times (training, self-conditioning, sampling) and every call shares the parameters.
 */
public interface Network {

  /** The options it was built from, which decide what it takes and gives (below). */
  NetworkConfig config();

  /** Channels of the data it denoises. */
  default int channels() {
    return config().channels();
  }

  /** Channels of its output. */
  default int outDim() {
    return config().outputChannels();
  }

  /** 1 for sequences [N, L, C], 2 for images [N, H, W, C], 3 for volumes [N, D, H, W, C]. */
  default int spatialRank() {
    return config().spatialRank();
  }

  default boolean selfCondition() {
    return config().selfCondition();
  }

  /** Number of classes of a class-conditional network, 0 for an unconditional one. */
  default int numClasses() {
    return config().numClasses();
  }

  /**
   * Whether class label -1 selects an unconditional evaluation (classifier-free guidance's null
   * class embedding).
   */
  default boolean nullClass() {
    return config().nullClass();
  }

  /** What the time input embeds, which decides the diffusions a network can serve. */
  enum TimeInput {
    /** Integer timesteps through transformer sinusoids: Gaussian diffusion only. */
    DISCRETE,
    /** A continuous noise level through random or learned Fourier features: EDM only. */
    CONTINUOUS,
    /** Either (Karras' Fourier embedding, which the reference also feeds integer timesteps). */
    ANY
  }

  default TimeInput timeInput() {
    return config().timeInput();
  }

  Parameters parameters();

  /**
   * Throws with a clear message when a spatial size cannot pass through the network; -1 (a size
   * unknown when the graph is built) is left to {@link #checkSizeWhenRun}.
   */
  void checkSpatialSize(long[] spatial);

  /** {@code x} once its spatial size, unknown when the graph was built, has passed the check when the graph runs. */
  default Operand<TFloat32> checkSizeWhenRun(Ops tf, Operand<TFloat32> x) {
    throw new IllegalArgumentException("the network takes only the size it was built for, not " + x.shape());
  }

  /**
   * @param x [N, ..., channels]
   * @param time [N]
   * @param selfCond [N, ..., channels] or null (zeros) for self-conditioned networks; must be
   *     null for others
   * @param classLabels [N] class indices for class-conditional networks (-1: none, where
   *     {@link #nullClass()}), else null
   */
  Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> time,
      Operand<TFloat32> selfCond, Operand<TInt64> classLabels, Forward fwd);

  /** An unconditional evaluation. */
  default Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> time,
      Operand<TFloat32> selfCond, Forward fwd) {
    return apply(tf, x, time, selfCond, null, fwd);
  }

  /**
   * Ops that training runs after every optimiser update to keep the weights on their constraint
   * set (Karras et al. 2023 re-normalise every weight); none for ordinary networks.
   */
  default List<Op> weightConstraints(Ops tf) {
    return List.of();
  }
}
