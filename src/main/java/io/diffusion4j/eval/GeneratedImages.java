package io.diffusion4j.eval;

import io.diffusion4j.sampling.DiffusionSampler;
import java.util.stream.LongStream;

/** Samples of a diffusion model as images to score. */
public final class GeneratedImages {
  private GeneratedImages() {}

  /**
   * Images drawn with the sampler's default settings, batch by batch; image {@code i} depends only
   * on the seed and {@code i}, never on the batch size. Class-conditional models cycle through
   * their classes, one per image, as the sample grids do.
   */
  public static FeatureStatistics.ImageSource of(DiffusionSampler sampler, int numClasses, long seed) {
    return (first, n) -> {
      long[] labels = numClasses == 0 ? null : LongStream.range(first, first + n).map(i -> i % numClasses).toArray();
      return sampler.sample(sampler.defaults(seed), sampler.initialNoise(first, n, seed), first, labels);
    };
  }
}
