package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Diffusion;
import io.diffusion4j.io.FloatArray;
import java.util.List;

/**
 * Draws samples from a diffusion from Java: one session run per network evaluation, the running
 * sample kept native between runs, all randomness from stateless ops seeded by (seed, step, image
 * index), so that an image depends only on the seed, its index in the run and the sampler's
 * options, never on how the run is cut into batches.
 */
public interface DiffusionSampler {

  Diffusion diffusion();

  /** The sampler this diffusion's config implies. */
  Sampler defaultSampler();

  /** The number of steps this diffusion's config implies. */
  int defaultSteps();

  /** The eta this diffusion's config implies (DDIM's; 0 for others). */
  default double defaultEta() {
    return 0;
  }

  /**
   * Standard-normal start noise for images {@code first} .. {@code first + num - 1} of a run, a
   * pure function of {@code seed} and the image index; each sampler scales it as it scales its
   * own draw.
   */
  FloatArray initialNoise(long first, int num, long seed);

  /** The start noise of the first {@code num} images. */
  default FloatArray initialNoise(int num, long seed) {
    return initialNoise(0, num, seed);
  }

  /**
   * Samples from the given start noise.
   *
   * @param first the index in the run of the batch's first image (0 for a run in one batch): it
   *     selects the images' own per-step noise
   * @param eta DDIM's eta (other samplers ignore it)
   * @param classLabels one label per sample for class-conditional networks, else null
   * @param everyStep when not null, receives every intermediate sample in data space, starting with the noise
   * @return samples in data space ([0, 1]), channels-last
   */
  FloatArray sample(Sampler sampler, FloatArray noise, long seed, long first, int steps, double eta,
      long[] classLabels, List<FloatArray> everyStep);

  /** A run in one batch. */
  default FloatArray sample(Sampler sampler, FloatArray noise, long seed, int steps, double eta, long[] classLabels,
      List<FloatArray> everyStep) {
    return sample(sampler, noise, seed, 0, steps, eta, classLabels, everyStep);
  }

  /** As above with the sampler, steps and eta the config implies. */
  default FloatArray sample(FloatArray noise, long seed, long[] classLabels) {
    return sample(defaultSampler(), noise, seed, defaultSteps(), defaultEta(), classLabels, null);
  }

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
