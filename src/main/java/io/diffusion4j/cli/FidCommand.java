package io.diffusion4j.cli;

import com.google.gson.JsonObject;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.data.NpyDataset;
import io.diffusion4j.distribute.Cluster;
import io.diffusion4j.distribute.Gather;
import io.diffusion4j.distribute.Handshake;
import io.diffusion4j.distribute.TfConfig;
import io.diffusion4j.eval.FeatureNetwork;
import io.diffusion4j.eval.FeatureStatistics;
import io.diffusion4j.eval.FrechetDistance;
import io.diffusion4j.eval.GeneratedImages;
import io.diffusion4j.eval.KernelDistance;
import io.diffusion4j.eval.StatisticsCache;
import io.diffusion4j.export.ModelLoader;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.ProgressLine;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.sampling.SampleRun;
import io.diffusion4j.sampling.Settings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code fid}: FD and KID of a model's samples, or of given samples, against data, as one JSON line. */
@Command(name = "fid", mixinStandardHelpOptions = true,
    header = "Score samples against data by FD and KID in a named feature network.",
    description = {"It prints the Frechet distance (FD) and the kernel distance (KID) of the",
        "features of samples and data as one JSON line that names the network. Only",
        "inception-2015-12-05 (--network classify_image_graph_def.pb) gives FIDs",
        "comparable with published ones; for 28x28 grey images the default network is",
        "the built-in fashion-mnist-classifier-v1."})
final class FidCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Option(names = "--model", required = true, paramLabel = "DIR",
        description = "model folder (or SavedModel written by export) to draw samples from (EMA weights when present)")
    Path model;

    @Option(names = "--samples", required = true, paramLabel = "FILE.npy",
        description = "samples to score: [N, H, W, C] (or [N, H, W]) float in [0, 1]")
    Path samples;
  }

  @Option(names = "--data", paramLabel = "PATH",
      description = "the data to compare with: image folder, idx image file or .npy (default: the embedded dataset)")
  Path data;

  @Option(names = "--num", paramLabel = "N",
      description = "samples to draw with --model (default 1000), or to use from --samples (default all)")
  Integer num;

  @Option(names = "--num-data", paramLabel = "M", description = "data examples, spread evenly (default all)")
  Integer numData;

  @Option(names = "--network", paramLabel = "PATH", description = "feature network: the Inception GraphDef"
      + " classify_image_graph_def.pb or a SavedModel with a 'features' output (default for 28x28 grey images:"
      + " the built-in fashion-mnist-classifier-v1)")
  Path network;

  @Option(names = "--inception-block-idx", paramLabel = "D",
      description = "the feature layer, by its size (default: the network's standard one)")
  Integer layer;

  @Option(names = "--seed", paramLabel = "S", description = "seed of the samples drawn and of the KID subsets (default 0)")
  long seed;

  @Option(names = "--batch-size", paramLabel = "B",
      description = "samples drawn at a time (default: as many as fit in about 1 GiB of activations, at most 1024)")
  Integer batchSize;

  @Option(names = "--stats", paramLabel = "FILE", description = "the data statistics cache file (instead of one in --stats-dir)")
  Path stats;

  @Option(names = "--stats-dir", paramLabel = "DIR", description = "where data statistics are cached, one file per"
      + " network, data and count (default: " + StatisticsCache.DEFAULT_DIR_DESCRIPTION + ")")
  Path statsDir;

  @Option(names = "--kid-subsets", paramLabel = "K", description = "default " + KernelDistance.DEFAULT_SUBSETS)
  int kidSubsets = KernelDistance.DEFAULT_SUBSETS;

  @Option(names = "--kid-subset-size", paramLabel = "M", description = "default " + KernelDistance.DEFAULT_SUBSET_SIZE)
  int kidSubsetSize = KernelDistance.DEFAULT_SUBSET_SIZE;

  @Mixin
  SamplingOptions sampling;

  @Mixin
  ExecutionOptions executionOptions = new ExecutionOptions();

  /** The settings the samples were drawn with, when drawn from a model. */
  private Settings drawnWith;
  private int drawnSteps;

  @Option(names = "--convert-image-to", paramLabel = "L|RGB|RGBA", description = "mode image folders are read in")
  String convertImageTo;

  @Override
  public Integer call() throws Exception {
    if (num != null && num < 2 || numData != null && numData < 2) {
      throw new ParameterException(spec.commandLine(), "--num and --num-data must be at least 2 (a covariance needs two)");
    }
    if (batchSize != null && batchSize < 1) {
      throw new ParameterException(spec.commandLine(), "--batch-size " + batchSize + " must be at least 1");
    }
    if (kidSubsets < 1 || kidSubsetSize < 2) {
      throw new ParameterException(spec.commandLine(), "--kid-subsets " + kidSubsets + " must be at least 1 and"
          + " --kid-subset-size " + kidSubsetSize + " at least 2");
    }
    sampling.check();
    PrintWriter err = spec.commandLine().getErr();
    Consumer<String> log = m -> err.println("diffusion4j: " + m);
    if (source.samples != null) {
      Dataset samples = NpyDataset.open(source.samples, 3);
      int count = num == null ? samples.size() : num;
      if (count > samples.size()) {
        throw new IllegalArgumentException("--num " + count + ": " + source.samples + " holds " + samples.size() + " samples");
      }
      return score(samples.exampleShape(), log,
          net -> FeatureStatistics.of(net, (first, n) -> samples.examples(IntStream.range(first, first + n).toArray()),
              count, batchSize != null ? batchSize : 500));
    }
    Execution execution = executionOptions.resolve(System.err);
    Optional<TfConfig> tfConfig = TfConfig.fromEnvironment();
    try (Cluster cluster = tfConfig.isEmpty() ? null : Cluster.join(tfConfig.get(), System.err);
        Gather gather = cluster == null ? null : new Gather(cluster);
        DiffusionModel model = ModelLoader.load(source.model, DiffusionModel.Weights.PREFER_EMA, execution)) {
      if (model.network().spatialRank() != 2) {
        throw new IllegalArgumentException("--model " + source.model + " makes sequences, not images: FD and KID score images");
      }
      int count = num == null ? 1000 : num;
      Settings settings = sampling.settings(model.sampler().denoiser(), seed);
      drawnWith = settings;
      drawnSteps = settings.solver().steps(model.sampler().denoiser(), settings.steps());
      SampleRun.Share share = cluster == null ? null
          : new SampleRun.Share(cluster.config().index(), cluster.config().numWorkers(), gather::sum);
      var images = GeneratedImages.of(model.sampler(), settings, model.network().numClasses(), share);
      int batch = batchSize != null ? batchSize
          : SampleRun.defaultBatchSize(model.config().network(), model.config().sampleShape());
      int done;
      if (cluster != null && !cluster.isChief()) {
        // the chief scores; this worker draws its share of every batch the chief's statistics take
        FeatureStatistics.ImageSource drawn = drawing(images, count);
        for (int first = 0; first < count; first += batch) {
          drawn.images(first, Math.min(batch, count - first));
        }
        spec.commandLine().getOut().println("worker " + cluster.config().index() + " done: its share of " + count
            + " samples went to worker 0");
        done = 0;
      } else {
        done = score(model.config().sampleShape(), log,
            net -> FeatureStatistics.of(net, drawing(images, count), count, batch));
      }
      if (cluster != null) {
        // the last batch's transfers done, every worker may leave
        Handshake.barrier(cluster);
      }
      return done;
    }
  }

  /** {@code images} with a progress line over the {@code count} drawn, from now on. */
  private FeatureStatistics.ImageSource drawing(FeatureStatistics.ImageSource images, int count) {
    ProgressLine progress = new ProgressLine(spec.commandLine().getErr(), System.console() != null, "images", 0, count);
    return (first, n) -> {
      FloatArray drawn = images.images(first, n);
      progress.update(first + n, "sampled");
      return drawn;
    };
  }

  /** What computes the samples' statistics once the network is open. */
  private interface SampleStatistics {
    FeatureStatistics of(FeatureNetwork net) throws IOException;
  }

  private int score(long[] shape, Consumer<String> log, SampleStatistics samples) throws IOException {
    Dataset dataset = data == null ? EmbeddedDefault.dataset() : DataArgument.open(data, shape, convertImageTo);
    if (!Arrays.equals(dataset.exampleShape(), shape)) {
      throw new IllegalArgumentException("the samples are " + Arrays.toString(shape) + " but the data's examples are "
          + Arrays.toString(dataset.exampleShape()));
    }
    try (FeatureNetwork net = FeatureNetwork.open(network, layer, shape)) {
      int dataCount = numData == null ? Integer.MAX_VALUE : numData;
      FeatureStatistics real = stats != null ? StatisticsCache.dataStatistics(net, dataset, dataCount, stats, log)
          : StatisticsCache.dataStatisticsIn(net, dataset, dataCount,
              statsDir != null ? statsDir : StatisticsCache.defaultDirectory(), log);
      FeatureStatistics fake = samples.of(net);
      fake.conditionWarning("samples").ifPresent(w -> log.accept("warning: " + w));
      real.conditionWarning("data examples").ifPresent(w -> log.accept("warning: " + w));
      KernelDistance.Result kid = KernelDistance.between(fake.features(), real.features(), kidSubsets, kidSubsetSize, seed);
      JsonObject line = new JsonObject();
      line.addProperty("network", net.name());
      line.addProperty("feature_dim", net.dimension());
      line.addProperty("fd", FrechetDistance.between(fake, real));
      line.addProperty("kid", kid.mean());
      line.addProperty("kid_std", kid.std());
      line.addProperty("kid_subsets", kid.subsets());
      line.addProperty("kid_subset_size", kid.subsetSize());
      line.addProperty("num_samples", fake.count());
      line.addProperty("num_data", real.count());
      line.addProperty("samples", (source.model != null ? source.model : source.samples).toString());
      if (drawnWith != null) {
        line.addProperty("sampler", drawnWith.solver().name());
        line.addProperty("steps", drawnSteps);
        line.addProperty("schedule", drawnWith.schedule().cliName());
      }
      line.addProperty("data", data == null ? "embedded" : data.toString());
      spec.commandLine().getOut().println(line);
    }
    return 0;
  }
}
