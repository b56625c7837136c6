package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Diffusion;
import io.diffusion4j.io.FloatArray;
import java.util.List;

/**
 * Draws samples from a diffusion from Java: one session run per network evaluation, the running
 * sample kept native between runs, all randomness from stateless ops seeded by (seed, step).
 */
public interface DiffusionSampler {

  Diffusion diffusion();

  /** The sampler this diffusion's config implies. */
  Sampler defaultSampler();

  /** The number of steps this diffusion's config implies. */
  int defaultSteps();

  /** Standard-normal start noise for {@code num} samples, a pure function of {@code seed}; each sampler scales it as it scales its own draw. */
  FloatArray initialNoise(int num, long seed);

  /**
   * Samples from the given start noise.
   *
   * @param eta DDIM's eta (other samplers ignore it)
   * @param classLabels one label per sample for class-conditional networks, else null
   * @param everyStep when not null, receives every intermediate sample in data space, starting with the noise
   * @return samples in data space ([0, 1]), channels-last
   */
  FloatArray sample(Sampler sampler, FloatArray noise, long seed, int steps, double eta, long[] classLabels,
      List<FloatArray> everyStep);

  /** As above with the sampler, steps and eta the config implies. */
  FloatArray sample(FloatArray noise, long seed, long[] classLabels);

  /** Unconditional sampling. */
  default FloatArray sample(Sampler sampler, FloatArray noise, long seed, int steps, double eta,
      List<FloatArray> everyStep) {
    return sample(sampler, noise, seed, steps, eta, null, everyStep);
  }

  /** Unconditional sampling with the sampler, steps and eta the config implies. */
  default FloatArray sample(FloatArray noise, long seed) {
    return sample(noise, seed, null);
  }
}
