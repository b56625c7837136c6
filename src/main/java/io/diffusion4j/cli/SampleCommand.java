package io.diffusion4j.cli;

import io.diffusion4j.diffusion.SamplingDefaults.Procedure;
import io.diffusion4j.distribute.Cluster;
import io.diffusion4j.distribute.Gather;
import io.diffusion4j.distribute.Handshake;
import io.diffusion4j.distribute.TfConfig;
import io.diffusion4j.export.ModelLoader;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.ImageGrid;
import io.diffusion4j.io.Npy;
import io.diffusion4j.io.OutputSpace;
import io.diffusion4j.io.ProgressLine;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.sampling.RePaint;
import io.diffusion4j.sampling.SampleInputs;
import io.diffusion4j.sampling.SampleRun;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Solvers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import io.diffusion4j.runtime.Execution;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sample}: draws samples from a model folder into .npy or a PNG grid, batch by batch. */
@Command(name = "sample", mixinStandardHelpOptions = true,
    header = "Draw samples from a model folder or SavedModel into .npy or a PNG grid.",
    description = {".npy output is channels-last float32 in [0, 1], written batch by batch in",
        "bounded memory. Every image depends only on the seed, its index and the",
        "sampler's options, never on --batch-size. With TF_CONFIG set, the workers of the",
        "cluster share every batch (start each with the same command) and worker 0 writes."})
final class SampleCommand implements Callable<Integer> {
  /** The largest PNG grid: beyond it a grid is too large to look at, and .npy is the format. */
  static final int MAX_GRID = 400;
  private static final int DEFAULT_NUM = 16;
  /** Rows of --noise checked at a time. */
  private static final int SCAN_ROWS = 256;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "model folder (config.json and weights) or SavedModel version folder")
  Path model;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "output file: .npy or .png")
  Path out;

  @Option(names = "--num", paramLabel = "N", description = "number of samples (default " + DEFAULT_NUM + ", or as many as --noise holds)")
  Long num;

  @Option(names = "--seed", paramLabel = "S", description = "random seed (default: a random one, printed)")
  Long seed;

  @Option(names = "--noise", paramLabel = "FILE.npy",
      description = "the start noise, standard normal, channels-last [N, ...] (instead of drawing it from --seed)")
  Path noise;

  @Mixin
  ExecutionOptions executionOptions = new ExecutionOptions();

  @Mixin
  SamplingOptions sampling;

  @Mixin
  InpaintOptions inpaint = new InpaintOptions();

  @Option(names = "--class-label", paramLabel = "K[,K...]", split = ",",
      description = "class-conditional models: one label for all samples, or one per sample")
  long[] classLabels;

  @Option(names = "--weights", paramLabel = "ema|model",
      description = "which weights to use (default: ema when the folder has them)")
  String weights;

  @Option(names = "--batch-size", paramLabel = "B",
      description = "images sampled at a time (default: as many as fit in about 1 GiB of activations, at most 1024)")
  Integer batchSize;

  @Override
  public Integer call() throws Exception {
    String ext = extension(out);
    if (!ext.equals("npy") && !ext.equals("png")) {
      throw new ParameterException(spec.commandLine(), "--out " + out + " must end in .npy or .png");
    }
    sampling.check();
    inpaint.check();
    DiffusionModel.Weights which;
    try {
      which = weights == null ? DiffusionModel.Weights.PREFER_EMA : DiffusionModel.Weights.parse(weights);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--" + e.getMessage().replace("\"", ""));
    }
    if (num != null && num < 1) {
      throw new ParameterException(spec.commandLine(), "--num " + num + " must be at least 1");
    }
    if (batchSize != null && batchSize < 1) {
      throw new ParameterException(spec.commandLine(), "--batch-size " + batchSize + " must be at least 1");
    }
    checkGridSize(ext, num);
    Execution execution = executionOptions.resolve(System.err);
    Optional<TfConfig> tfConfig = TfConfig.fromEnvironment();
    if (inpaint.given() && tfConfig.isPresent()) {
      throw new IllegalArgumentException("--inpaint runs in one process: unset TF_CONFIG");
    }
    try (Cluster cluster = tfConfig.isEmpty() ? null : Cluster.join(tfConfig.get(), System.err);
        Gather gather = cluster == null ? null : new Gather(cluster);
        DiffusionModel m = ModelLoader.load(model, which, execution);
        Npy.Rows rows = noise == null ? null : Npy.Rows.open(noise)) {
      long[] perExample = m.config().sampleShape();
      if (ext.equals("png") && (perExample.length != 3 || !Set.of(1L, 3L, 4L).contains(perExample[2]))) {
        throw new IllegalArgumentException("--out " + out + ": PNG grids need images with 1, 3 or 4 channels; write .npy instead");
      }
      InpaintOptions.Known known = null;
      if (inpaint.given()) {
        if (perExample.length != 3) {
          throw new IllegalArgumentException("--inpaint takes images; this model makes examples of shape "
              + Arrays.toString(perExample));
        }
        if (sampling.sampler != null && sampling.solver() != Solvers.of(Procedure.DDPM)) {
          throw new IllegalArgumentException("--inpaint samples with RePaint's DDPM steps: leave --sampler out or give ddpm");
        }
        known = inpaint.open(perExample);
      }
      DiffusionSampler s = known == null ? m.sampler()
          : new RePaint(m.ops(), m.session(), m.sampler(), known, inpaint.options());
      long count = rows != null ? checkNoise(rows, perExample) : known != null ? known.count()
          : num != null ? num : DEFAULT_NUM;
      if (known != null && (count != known.count() || (num != null && num != count))) {
        throw new IllegalArgumentException("--inpaint " + inpaint.images + " holds " + known.count() + " images: --num and"
            + " --noise must give as many");
      }
      checkGridSize(ext, count);
      if (cluster == null || cluster.isChief()) {
        checkSpace(ext, count, perExample);
      }
      long drawn = seed != null ? seed : ThreadLocalRandom.current().nextLong();
      // every worker draws the chief's images
      long runSeed = cluster == null ? drawn : Long.parseLong(Handshake.share(cluster, Long.toString(drawn)));
      Settings settings = sampling.settings(s.denoiser(), runSeed,
          known != null ? Solvers.of(Procedure.DDPM) : sampling.solver());
      if (seed == null && noise == null && (cluster == null || cluster.isChief())) {
        spec.commandLine().getErr().println("diffusion4j: using --seed " + runSeed);
      }
      Solver<?, ?> chosen = settings.solver();
      int k = chosen.steps(s.denoiser(), settings.steps());
      SampleRun.Labels labels = labels(count, m.network().numClasses());
      int batch = batchSize != null ? batchSize : SampleRun.defaultBatchSize(m.config().network(), perExample);
      SampleRun.Noise start = rows == null ? null : rows::read;
      SampleRun.Share share = cluster == null ? null
          : new SampleRun.Share(cluster.config().index(), cluster.config().numWorkers(), gather::sum);
      ProgressLine progress = new ProgressLine(spec.commandLine().getErr(), System.console() != null, "images", 0, count);
      long[] shape = Tensors.batchShape(count, perExample);
      if (cluster != null && !cluster.isChief()) {
        // the chief writes; this worker samples its share of every batch
        SampleRun.run(s, settings, count, batch, start, labels, share,
            (first, images) -> progress.update(first + images.shape()[0], ""));
        spec.commandLine().getOut().println("worker " + cluster.config().index() + " done: its share of " + count
            + " samples went to worker 0");
      } else if (ext.equals("npy")) {
        Npy.write(out, shape, sink -> SampleRun.run(s, settings, count, batch, start, labels, share, (first, images) -> {
          sink.write(images);
          progress.update(first + images.shape()[0], "");
        }));
      } else {
        float[] all = new float[Math.toIntExact(count * Arrays.stream(perExample).reduce(1, Math::multiplyExact))];
        SampleRun.run(s, settings, count, batch, start, labels, share, (first, images) -> {
          System.arraycopy(images.data(), 0, all, Math.toIntExact(first * images.size() / images.shape()[0]),
              images.data().length);
          progress.update(first + images.shape()[0], "");
        });
        ImageGrid.writePng(out, new FloatArray(shape, all));
      }
      if (cluster != null) {
        // the last batch's transfers done, every worker may leave
        Handshake.barrier(cluster);
      }
      if (cluster == null || cluster.isChief()) {
        spec.commandLine().getOut().println("wrote " + count + " samples (" + chosen.name() + ", " + k + " steps) to "
            + out);
      }
    }
    return 0;
  }

  /**
   * Refuses an output larger than the free space where it goes, before sampling: .npy holds
   * float32 values after a header, a PNG grid at most a byte per value (compression makes it less).
   */
  private void checkSpace(String ext, long count, long[] perExample) throws IOException {
    long values = OutputSpace.bytes(count, Arrays.stream(perExample).reduce(1, (a, b) -> OutputSpace.bytes(a, b, 0)), 0);
    long bytes = ext.equals("npy") ? OutputSpace.bytes(values, Float.BYTES, 128) : values;
    OutputSpace.check((num != null ? "--num " + num + " " : "") + "--out " + out, out, bytes);
  }

  private void checkGridSize(String ext, Long count) {
    if (ext.equals("png") && count != null && count > MAX_GRID) {
      throw new ParameterException(spec.commandLine(), "--out " + out + ": a grid of " + count + " images is too large"
          + " to look at (at most " + MAX_GRID + "); write .npy instead");
    }
  }

  /**
   * The number of start-noise rows in --noise, after checking that they fit the model, agree
   * with --num, and are all finite (a NaN would silently poison every step).
   */
  private long checkNoise(Npy.Rows rows, long[] perExample) throws IOException {
    long[] shape = rows.shape();
    SampleInputs.checkBatch("--noise", shape, perExample);
    if (num != null && shape[0] != num) {
      throw new IllegalArgumentException("--noise " + noise + " holds " + shape[0] + " samples but --num is " + num);
    }
    for (long first = 0; first < shape[0]; first += SCAN_ROWS) {
      float[] v = rows.read(first, (int) Math.min(SCAN_ROWS, shape[0] - first)).data();
      for (int i = 0; i < v.length; i++) {
        if (!Float.isFinite(v[i])) {
          throw new IllegalArgumentException("--noise " + noise + ": the value at " + index(shape, first, i) + " is "
              + v[i] + "; the start noise must be finite");
        }
      }
    }
    return shape[0];
  }

  /** The multi-index of flat element {@code i} of the rows starting at {@code first}. */
  private static String index(long[] shape, long first, long i) {
    long[] idx = new long[shape.length];
    for (int d = shape.length - 1; d > 0; d--) {
      idx[d] = i % shape[d];
      i /= shape[d];
    }
    idx[0] = first + i;
    return Arrays.toString(idx);
  }

  /** --class-label as the labels of each batch: a single label repeats; none is allowed only for unconditional models. */
  private SampleRun.Labels labels(long count, int classes) {
    try {
      SampleInputs.checkLabels("--class-label", classLabels, classes, count, true);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (classLabels == null) {
      return null;
    }
    return (first, n) -> {
      long[] batch = new long[n];
      for (int i = 0; i < n; i++) {
        batch[i] = classLabels[classLabels.length == 1 ? 0 : (int) first + i];
      }
      return batch;
    };
  }

  private static String extension(Path p) {
    String name = p.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
  }
}
