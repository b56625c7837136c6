package io.diffusion4j.eval;

import io.diffusion4j.sampling.DiffusionSampler;
import java.util.stream.LongStream;

/** Samples of a diffusion model as images to score. */
public final class GeneratedImages {
  private GeneratedImages() {}

  /**
   * Images drawn with the sampler's default settings, batch by batch: the batch starting at image
   * {@code first} starts from noise seeded by ({@code seed}, first), so the images depend only on
   * the seed and the batch size. Class-conditional models cycle through their classes, one per
   * image, as the sample grids do.
   */
  public static FeatureStatistics.ImageSource of(DiffusionSampler sampler, int numClasses, long seed) {
    return (first, n) -> {
      long[] labels = numClasses == 0 ? null : LongStream.range(first, first + n).map(i -> i % numClasses).toArray();
      long batchSeed = seed * 0x9E3779B97F4A7C15L + first;
      return sampler.sample(sampler.initialNoise(n, batchSeed), batchSeed, labels);
    };
  }
}
