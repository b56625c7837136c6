package io.diffusion4j.train;

import io.diffusion4j.data.Dataset;
import io.diffusion4j.eval.FeatureNetwork;
import io.diffusion4j.eval.FeatureStatistics;
import io.diffusion4j.eval.FrechetDistance;
import io.diffusion4j.eval.GeneratedImages;
import io.diffusion4j.eval.StatisticsCache;
import io.diffusion4j.io.ProgressLine;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * calculate_fid's score of each save: the Fréchet distance of num_fid_samples samples of the EMA
 * weights against as many training examples, in the features of the run's feature network; with
 * save_best_and_latest_only, the checkpoint of the lowest so far (checkpoint-best).
 */
final class FidScoring implements AutoCloseable {
  private final FeatureNetwork network;
  private final Dataset data;
  private final TrainerOptions options;
  private final Path folder;
  /** The data's statistics, computed (or read from the folder's cache) at the first score. */
  private FeatureStatistics dataStatistics;
  private double bestFd = Double.POSITIVE_INFINITY;
  /** The last FD, for the progress line; empty before the first. */
  private String note = "";

  private FidScoring(FeatureNetwork network, Dataset data, TrainerOptions options, Path folder) {
    this.network = network;
    this.data = data;
    this.options = options;
    this.folder = folder;
  }

  /** Opens the run's feature network for a model of images, scoring into the results folder {@code folder}. */
  static FidScoring open(ModelConfig config, Dataset data, TrainerOptions options, Path folder) throws IOException {
    if (config.network().spatialRank() != 2) {
      throw new IllegalArgumentException("calculate_fid = true needs a model of images; this one makes sequences "
          + Arrays.toString(config.sampleShape()));
    }
    return new FidScoring(FeatureNetwork.open(options.fidNetwork() == null ? null : Path.of(options.fidNetwork()),
        options.inceptionBlockIdx(), config.sampleShape()), data, options, folder);
  }

  /** A resumed run's best is the one it had reached: a later save replaces it only with a lower FD. */
  void resume() throws IOException {
    Optional<Checkpoints.Best> best = Checkpoints.best(folder);
    if (best.isPresent()) {
      bestFd = best.get().fd();
    }
  }

  /**
   * Scores the EMA weights of {@code model} after {@code stepsDone} steps, records the FD and,
   * when it is the lowest yet, saves checkpoint-best (before the caller's latest, so that a run
   * resumed from the latest always finds the best it had reached).
   */
  void score(DiffusionModel model, long stepsDone, ProgressLine progress, RunRecord record) throws IOException {
    int count = options.numFidSamples();
    if (dataStatistics == null) {
      dataStatistics = StatisticsCache.dataStatistics(network, data, count, StatisticsCache.file(folder, network),
          progress::note);
      dataStatistics.conditionWarning("data examples").ifPresent(w -> progress.note("warning: " + w));
    }
    progress.note("step " + stepsDone + ": sampling " + count + " images for the FD");
    FeatureStatistics samples = FeatureStatistics.of(network,
        GeneratedImages.of(model.emaSampler(), model.network().numClasses(), options.seed()), count,
        options.trainBatchSize());
    samples.conditionWarning("samples").ifPresent(w -> progress.note("warning: " + w));
    double fd = FrechetDistance.between(samples, dataStatistics);
    record.fd(stepsDone, fd, network.name(), samples.count(), dataStatistics.count());
    note = String.format(Locale.ROOT, "  fd[%s] %.4g", network.name(), fd);
    if (options.saveBestAndLatestOnly() && fd < bestFd) {
      bestFd = fd;
      Checkpoints.saveBest(folder, model.session(), stepsDone, options, fd, model::save);
    }
  }

  /** The last FD under the network's name, as the progress line shows it; empty before the first. */
  String note() {
    return note;
  }

  @Override
  public void close() {
    network.close();
  }
}
