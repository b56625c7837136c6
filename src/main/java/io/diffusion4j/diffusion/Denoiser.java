package io.diffusion4j.diffusion;

import io.diffusion4j.models.Network;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A diffusion seen as a denoiser in the sigma view of Karras et al. 2022 (k-diffusion's): a
 * noisy sample is x = x0 + sigma n, and D(x; sigma) estimates x0. Every solver works in this
 * view, so every solver runs on every model. An EDM network is such a denoiser already; a
 * Gaussian-diffusion network becomes one as a {@link VariancePreserving} diffusion. Besides D and
 * its noise levels it tells the samplers only what they cannot do without: the example's shape,
 * the start's scale, the data's space, the network's conditioning and how its config samples.
 */
public interface Denoiser {

  /**
   * D(x; sigma), and the noise a DDIM-type step re-noises with (x = x0 + sigma eps in this view);
   * for a network that learns its variance (Nichol and Dhariwal 2021) also where the ancestral
   * step's log-variance lies between the posterior's (0) and beta's (1), else null.
   */
  record Estimate(Operand<TFloat32> denoised, Operand<TFloat32> noise, Operand<TFloat32> varianceFrac) {
    public Estimate(Operand<TFloat32> denoised, Operand<TFloat32> noise) {
      this(denoised, noise, null);
    }
  }

  /** Shape of one example, channels-last. */
  long[] sampleShape();

  /**
   * D(x; sigma): the estimate of x0, with {@code clamp} clamped to the data's range [-1, 1] (the
   * reference's clip_denoised, clamp and clip_sample_denoised).
   *
   * @param sigma a scalar noise level, the same for the whole batch
   */
  Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning conditioning,
      boolean clamp);

  /**
   * Both estimates at once. The noise is the one D implies, (x - D) / sigma, unless the model
   * says otherwise: under CFG++ it is the unconditional one.
   */
  default Estimate estimate(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning conditioning,
      boolean clamp) {
    Operand<TFloat32> d = denoise(tf, x, sigma, conditioning, clamp);
    return new Estimate(d, tf.math.div(tf.math.sub(x, d), sigma));
  }

  /** The smallest positive noise level the model knows. */
  double sigmaMin();

  /** The largest noise level, where sampling starts. */
  double sigmaMax();

  /** The model's own schedule of {@code steps} levels, descending from sigmaMax, then 0. */
  double[] ownSigmas(int steps);

  /** How it samples when a run says nothing: as its config implies. */
  default SamplingDefaults samplingDefaults() {
    return SamplingDefaults.NONE;
  }

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

  /** Data space to the denoiser's ([0, 1] to [-1, 1] for the reference's diffusions); identity unless it says otherwise. */
  default Operand<TFloat32> normalize(Ops tf, Operand<TFloat32> x) {
    return x;
  }

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
