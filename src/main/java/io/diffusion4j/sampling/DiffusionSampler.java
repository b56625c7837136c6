package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.io.FloatArray;

/**
 * Draws samples from Java with any solver of the catalogue: one session run per step, the
 * running sample kept native between runs, all randomness from stateless ops seeded by (seed,
 * step, image index), so that an image depends only on the seed, its index in the run and the
 * settings, never on how the run is cut into batches.
 */
public interface DiffusionSampler {

  Denoiser denoiser();

  /** The settings the model's config implies (solver, steps, eta, churn), with {@code seed}. */
  default Settings defaults(long seed) {
    return Settings.defaults(denoiser(), seed);
  }

  /**
   * Standard-normal start noise for images {@code first} .. {@code first + num - 1} of a run, a
   * pure function of {@code seed} and the image index; the solver scales it as the model's start
   * asks.
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
   * @param classLabels one label per sample for class-conditional networks, else null
   * @return samples in data space ([0, 1]), channels-last
   */
  FloatArray sample(Settings settings, FloatArray noise, long first, long[] classLabels);

  /** A run in one batch. */
  default FloatArray sample(Settings settings, FloatArray noise, long[] classLabels) {
    return sample(settings, noise, 0, classLabels);
  }

  /** A run in one batch with the config's settings. */
  default FloatArray sample(FloatArray noise, long seed, long[] classLabels) {
    return sample(defaults(seed), noise, 0, classLabels);
  }

  /** An unconditional run in one batch with the config's settings. */
  default FloatArray sample(FloatArray noise, long seed) {
    return sample(noise, seed, null);
  }
}
