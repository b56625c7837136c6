package io.diffusion4j.train;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.ImageGrid;
import io.diffusion4j.io.Npy;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.sampling.DiffusionSampler;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.LongStream;

/** The samples of each save: num_samples draws of the EMA weights from the run's seed, so saves compare. */
final class SampleGrid {
  private SampleGrid() {}

  /**
   * Writes sample-STEP.png to {@code folder} (and to TensorBoard) when the model makes images of
   * 1, 3 or 4 channels, else the samples as sample-STEP.npy; returns the file written.
   */
  static Path write(DiffusionModel model, TrainerOptions options, Path folder, long stepsDone, RunRecord record)
      throws IOException {
    DiffusionSampler sampler = model.emaSampler();
    FloatArray noise = sampler.initialNoise(options.numSamples(), options.seed());
    int classes = model.network().numClasses();
    // a class-conditional grid cycles through the classes, one per sample
    long[] labels = classes == 0 ? null : LongStream.range(0, options.numSamples()).map(i -> i % classes).toArray();
    FloatArray samples = sampler.sample(noise, options.seed(), labels);
    if (model.network().spatialRank() == 2 && List.of(1, 3, 4).contains(model.network().channels())) {
      Path grid = folder.resolve(String.format(Locale.ROOT, "sample-%d.png", stepsDone));
      BufferedImage picture = ImageGrid.grid(samples, (int) Math.round(Math.sqrt(options.numSamples())),
          ImageGrid.DEFAULT_PADDING);
      ImageGrid.writePng(grid, picture);
      record.samples(stepsDone, picture);
      return grid;
    }
    Path file = folder.resolve(String.format(Locale.ROOT, "sample-%d.npy", stepsDone));
    Npy.write(file, samples);
    return file;
  }
}
