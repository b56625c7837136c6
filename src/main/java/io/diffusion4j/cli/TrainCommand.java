package io.diffusion4j.cli;

import com.google.gson.JsonObject;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.io.JsonDifference;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.train.Checkpoints;
import io.diffusion4j.train.Trainer;
import io.diffusion4j.train.TrainerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code train}: trains a model into a results folder that is also its model folder. */
@Command(name = "train", mixinStandardHelpOptions = true,
    header = "Train a diffusion model on your data, or with no arguments on the embedded default.",
    description = {"The embedded default is a small Unet on 6,000 Fashion-MNIST images shipped in",
        "the jar; it trains in under ten minutes on 2 cores. Trainer options take the",
        "Python reference's names in kebab case. Watch a run with:",
        "  tensorboard --logdir results/"})
final class TrainCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--data", paramLabel = "PATH",
      description = "image folder, idx image file (labels beside it are used), .npy array [N, ...], or WAV file/folder")
  Path data;

  @Option(names = "--config", paramLabel = "FILE",
      description = "config.json with \"model\" and \"diffusion\" (without --data it trains on the embedded dataset)")
  Path config;

  @Option(names = "--out", paramLabel = "DIR", description = "results and model folder (default: results/fashion-mnist"
      + " for the embedded default, else results/<data name>)")
  Path out;

  @Option(names = "--resume", description = "continue the run in --out from its latest checkpoint (up to --steps)")
  boolean resume;

  @Option(names = {"--steps", "--train-num-steps"}, paramLabel = "N", description = "train_num_steps")
  Long steps;

  @Option(names = {"--batch-size", "--train-batch-size"}, paramLabel = "B", description = "train_batch_size")
  Integer batchSize;

  @Option(names = {"--lr", "--train-lr"}, paramLabel = "LR", description = "train_lr")
  Double lr;

  @Option(names = "--seed", paramLabel = "S", description = "seed of the whole run: weights, batches, noise")
  Long seed;

  @Option(names = "--gradient-accumulate-every", paramLabel = "K") Integer accumulate;
  @Option(names = "--augment-horizontal-flip", paramLabel = "true|false", arity = "1") Boolean flip;
  @Option(names = "--ema-decay", paramLabel = "D") Double emaDecay;
  @Option(names = "--ema-update-every", paramLabel = "N") Integer emaUpdateEvery;
  @Option(names = "--adam-betas", paramLabel = "B1,B2", split = ",", arity = "1") double[] adamBetas;
  @Option(names = "--max-grad-norm", paramLabel = "X", description = "0 turns clipping off") Double maxGradNorm;
  @Option(names = "--save-and-sample-every", paramLabel = "N") Long saveEvery;
  @Option(names = "--num-samples", paramLabel = "N", description = "sample grid size, a perfect square") Integer numSamples;
  @Option(names = "--amp", description = "mixed precision where the device has it (a CPU trains in float32)") boolean amp;
  @Option(names = "--mixed-precision-type", paramLabel = "fp16|bf16") String mixedPrecisionType;
  @Option(names = "--convert-image-to", paramLabel = "L|RGB|RGBA") String convertImageTo;
  @Option(names = "--log-every", paramLabel = "N", description = "steps between logged losses (default 10)") Integer logEvery;
  @Option(names = "--loader-threads", paramLabel = "N", description = "data decoding threads (default 2)") Integer loaderThreads;
  @Option(names = "--lr-schedule", paramLabel = "constant|inv_sqrt",
      description = "inv_sqrt: train_lr * lr_sigma_ref / sqrt(max(step / lr_t_ref, 1)) (Karras et al. 2023)") String lrSchedule;
  @Option(names = "--lr-t-ref", paramLabel = "T", description = "default 70000") Double lrTRef;
  @Option(names = "--lr-sigma-ref", paramLabel = "S", description = "default 0.01") Double lrSigmaRef;
  @Option(names = "--calculate-fid", description = "score the EMA weights at every save: the FD of --num-fid-samples"
      + " samples against as many training examples, in the features of --fid-network") boolean calculateFid;
  @Option(names = "--num-fid-samples", paramLabel = "N", description = "default 50000") Integer numFidSamples;
  @Option(names = "--inception-block-idx", paramLabel = "D",
      description = "the feature layer by its size (default: the network's standard one, 2048 for Inception)")
  Integer inceptionBlockIdx;
  @Option(names = "--save-best-and-latest-only",
      description = "keep the latest checkpoint and the one with the lowest FD (checkpoint-best, also a model folder)")
  boolean saveBestAndLatestOnly;
  @Option(names = "--fid-network", paramLabel = "PATH", description = "feature network: the Inception GraphDef"
      + " classify_image_graph_def.pb or a SavedModel with a 'features' output (default for 28x28 grey images:"
      + " the built-in fashion-mnist-classifier-v1)") String fidNetwork;

  @Override
  public Integer call() throws Exception {
    boolean embedded = data == null;
    Path folder = out != null ? out : embedded && config == null ? EmbeddedDefault.OUT
        : Path.of("results", (embedded ? config : data).getFileName().toString().replaceFirst("\\.[^.]*$", ""));
    if (resume) {
      return resume(folder);
    }
    ModelConfig modelConfig = config != null ? ModelConfig.read(config) : EmbeddedDefault.config();
    Dataset dataset = embedded ? EmbeddedDefault.dataset() : DataArgument.open(data, modelConfig, convertImageTo);
    TrainerOptions options = build(embedded ? EmbeddedDefault.options() : TrainerOptions.builder()
        .augmentHorizontalFlip(modelConfig.network().spatialRank() == 2));
    try (Trainer trainer = Trainer.create(modelConfig, dataset, options, folder)) {
      return report(trainer.train());
    }
  }

  /**
   * Continues the run in {@code folder}. The command that started it may be given again: an
   * option whose value equals the run's is accepted, one that differs is refused (only --steps
   * may change, and --loader-threads, which does not change the results).
   */
  private int resume(Path folder) throws Exception {
    if (!Checkpoints.exists(folder)) {
      throw new IllegalArgumentException("--resume: " + folder + " holds no training run to continue");
    }
    Checkpoints.Info info = Checkpoints.read(folder);
    TrainerOptions stored = info.options();
    TrainerOptions given = build(stored.toBuilder());
    boolean dataMoved = stored.folder() != null && given.folder() != null && !given.folder().equals(stored.folder())
        && !Files.exists(Path.of(stored.folder()));
    if (!dataMoved && !Objects.equals(stored.folder(), given.folder())) {
      throw conflict("--data " + given.folder(), "data, " + (stored.folder() == null ? "the embedded dataset"
          : stored.folder()), info);
    }
    if (given.folder() != null && !Files.exists(Path.of(given.folder()))) {
      throw new IllegalArgumentException("--resume: the run's data " + given.folder() + " is no longer there;"
          + " give its new place with --data");
    }
    java.util.Optional<String> key = stored.conflictOnResume(given);
    if (key.isPresent()) {
      JsonObject was = stored.toJson();
      throw conflict("--" + key.get().replace('_', '-') + " " + given.toJson().get(key.get()),
          key.get() + " = " + (was.has(key.get()) ? was.get(key.get()) : "(not set)"), info);
    }
    Path storedConfig = folder.resolve(io.diffusion4j.pipeline.DiffusionModel.CONFIG);
    ModelConfig modelConfig = ModelConfig.read(storedConfig);
    if (config != null) {
      String difference = JsonDifference.first(modelConfig.toJson(), ModelConfig.read(config).toJson());
      if (difference != null) {
        throw new ParameterException(spec.commandLine(), "--resume: --config " + config + " differs from the run's "
            + storedConfig + " at " + difference + ": leave --config out or give the same config");
      }
    }
    Dataset dataset = given.folder() == null ? EmbeddedDefault.dataset()
        : DataArgument.open(Path.of(given.folder()), modelConfig, given.convertImageTo());
    try (Trainer trainer = Trainer.resume(folder, dataset, given)) {
      return report(trainer.train());
    }
  }

  private ParameterException conflict(String given, String stored, Checkpoints.Info info) {
    return new ParameterException(spec.commandLine(), "--resume: " + given + " conflicts with the run's " + stored
        + " (from " + info.directory() + "): leave it out or give the same value");
  }

  /** The options with the command line's applied; a bad value is reported under its option's name. */
  private TrainerOptions build(TrainerOptions.Builder b) {
    try {
      return apply(b).build();
    } catch (IllegalArgumentException e) {
      // the options check themselves under the reference's names: train_lr = -1.0 ... is --train-lr -1.0 ...
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("^([a-z0-9_]+) = (.*)$").matcher(e.getMessage());
      throw new ParameterException(spec.commandLine(), m.matches()
          ? "--" + m.group(1).replace('_', '-') + " " + m.group(2) : e.getMessage());
    }
  }

  private TrainerOptions.Builder apply(TrainerOptions.Builder b) {
    if (steps != null) b.trainNumSteps(steps);
    if (batchSize != null) b.trainBatchSize(batchSize);
    if (lr != null) b.trainLr(lr);
    if (seed != null) b.seed(seed);
    if (accumulate != null) b.gradientAccumulateEvery(accumulate);
    if (flip != null) b.augmentHorizontalFlip(flip);
    if (emaDecay != null) b.emaDecay(emaDecay);
    if (emaUpdateEvery != null) b.emaUpdateEvery(emaUpdateEvery);
    if (adamBetas != null) {
      if (adamBetas.length != 2) {
        throw new ParameterException(spec.commandLine(), "--adam-betas takes two numbers, B1,B2");
      }
      b.adamBetas(adamBetas[0], adamBetas[1]);
    }
    if (maxGradNorm != null) b.maxGradNorm(maxGradNorm);
    if (saveEvery != null) b.saveAndSampleEvery(saveEvery);
    if (numSamples != null) b.numSamples(numSamples);
    if (amp) b.amp(true);
    if (mixedPrecisionType != null) b.mixedPrecisionType(mixedPrecisionType);
    if (logEvery != null) b.logEvery(logEvery);
    if (loaderThreads != null) b.loaderThreads(loaderThreads);
    if (lrSchedule != null) b.lrSchedule(lrSchedule);
    if (lrTRef != null) b.lrTRef(lrTRef);
    if (lrSigmaRef != null) b.lrSigmaRef(lrSigmaRef);
    if (calculateFid) b.calculateFid(true);
    if (numFidSamples != null) b.numFidSamples(numFidSamples);
    if (inceptionBlockIdx != null) b.inceptionBlockIdx(inceptionBlockIdx);
    if (saveBestAndLatestOnly) b.saveBestAndLatestOnly(true);
    // absolute, so that --resume finds it from any folder
    if (fidNetwork != null) b.fidNetwork(Path.of(fidNetwork).toAbsolutePath().toString());
    if (data != null) b.folder(data.toAbsolutePath().normalize().toString());
    if (convertImageTo != null) b.convertImageTo(convertImageTo);
    return b;
  }

  private int report(Trainer.Result result) {
    var out = spec.commandLine().getOut();
    out.println("model folder: " + result.folder().toAbsolutePath());
    if (result.lastSampleGrid() != null) {
      out.println("samples:      " + result.lastSampleGrid().toAbsolutePath());
    }
    return 0;
  }
}
