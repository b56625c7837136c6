package io.diffusion4j.diffusion;

import io.diffusion4j.models.Network;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A diffusion seen as a denoiser in the sigma view of Karras et al. 2022 (k-diffusion's): a
 * noisy sample is x = x0 + sigma n, and D(x; sigma) estimates x0. Every solver works in this
 * view, so every solver runs on every model. An EDM network is such a denoiser already; a
 * Gaussian-diffusion network becomes one through sigma_t = sqrt((1 - abar_t) / abar_t), its input
 * x / sqrt(1 + sigma^2) and the timestep its own schedule gives that sigma.
 */
public interface Denoiser {

  /** Shape of one example, channels-last. */
  long[] sampleShape();

  /**
   * D(x; sigma): the estimate of x0, clamped to the data's range [-1, 1].
   *
   * @param sigma a scalar noise level, the same for the whole batch
   */
  Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning conditioning);

  /** The smallest positive noise level the model knows. */
  double sigmaMin();

  /** The largest noise level, where sampling starts. */
  double sigmaMax();

  /** The model's own schedule of {@code steps} levels, descending from sigmaMax, then 0. */
  double[] ownSigmas(int steps);

  /** The number of discrete timesteps the model was trained on, or 0 for continuous noise levels. */
  default int timesteps() {
    return 0;
  }

  /**
   * The factor that turns a standard-normal draw into the start at {@code sigma}: sigma for a
   * variance-exploding model (EDM), sqrt(1 + sigma^2) for Gaussian diffusion, whose x_T is the
   * standard-normal draw itself.
   */
  double startScale(double sigma);

  /** A finished sample (sigma 0) in data space, clamped to the data's range. */
  Operand<TFloat32> images(Ops tf, Operand<TFloat32> x);

  /** The network it evaluates, or null for a denoiser with none (a test's closed form). */
  Network network();

  default boolean selfConditioned() {
    return network() != null && network().selfCondition();
  }

  default int numClasses() {
    return network() == null ? 0 : network().numClasses();
  }
}
