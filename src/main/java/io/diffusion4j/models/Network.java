package io.diffusion4j.models;

import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A denoising network: maps a noisy channels-last batch and its time (or noise level) to the raw
 * output the diffusion's objective asks for. Built once per graph; {@link #apply} may be called
 * several times (training, self-conditioning, sampling) and every call shares the parameters.
 */
public interface Network {

  /** Channels of the data it denoises. */
  int channels();

  /** Channels of its output. */
  int outDim();

  /** 1 for sequences [N, L, C], 2 for images [N, H, W, C], 3 for volumes [N, D, H, W, C]. */
  int spatialRank();

  boolean selfCondition();

  /** True when the time input is a continuous noise level (random or learned Fourier features). */
  boolean continuousTime();

  Parameters parameters();

  /** Throws with a clear message when a spatial size cannot pass through the network. */
  void checkSpatialSize(long[] spatial);

  /**
   * @param x [N, ..., channels]
   * @param time [N]
   * @param selfCond [N, ..., channels] or null (zeros) for self-conditioned networks; must be
   *     null for others
   */
  Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> time,
      Operand<TFloat32> selfCond, Forward fwd);
}
