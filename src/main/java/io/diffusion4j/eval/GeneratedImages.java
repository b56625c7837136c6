package io.diffusion4j.eval;

import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.sampling.SampleRun;
import io.diffusion4j.sampling.Settings;
import java.util.stream.LongStream;

/** Samples of a diffusion model as images to score. */
public final class GeneratedImages {
  private GeneratedImages() {}

  /** Images drawn with the model's default settings. */
  public static FeatureStatistics.ImageSource of(DiffusionSampler sampler, int numClasses, long seed) {
    return of(sampler, sampler.defaults(seed), numClasses, null);
  }

  /**
   * Images drawn with {@code settings}, batch by batch; image {@code i} depends only on the seed
   * and {@code i}, never on the batch size. Class-conditional models cycle through their
   * classes, one per image, as the sample grids do.
   *
   * @param share this worker's share of each batch when a cluster draws them, else null
   */
  public static FeatureStatistics.ImageSource of(DiffusionSampler sampler, Settings settings, int numClasses,
      SampleRun.Share share) {
    SampleRun.Labels labels = numClasses == 0 ? null
        : (first, n) -> LongStream.range(first, first + n).map(i -> i % numClasses).toArray();
    return (first, n) -> SampleRun.batch(sampler, settings, first, n, null, labels, share);
  }
}
