package io.diffusion4j.train;

import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Alias;
import io.diffusion4j.io.ConfigRecords.Config;
import io.diffusion4j.io.ConfigRecords.Doc;
import io.diffusion4j.io.ConfigRecords.Nullable;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.runtime.Device;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.runtime.Precision;
import io.diffusion4j.train.posthoc.PowerFunction;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.immutables.value.Value;

/**
 * The reference Trainer's options with its names and defaults (each option one method below), plus what a
 * reproducible JVM run needs: the seed, how often the loss is logged, the number of data-loading
 * threads, the learning-rate schedule (constant, Karras et al. 2023's inverse square root, or a
 * cosine decay, each after an optional linear warm-up), and where the data came from and how it
 * was read, so that a resumed run reads the same data; and the power-function EMAs whose
 * snapshots post-hoc EMA combines (Karras et al. 2024).
 * The same declarations give {@code train}'s command-line options.
 *
 * <p>Scoring differs from the reference where it must: calculate_fid is off unless asked for (the
 * reference's Inception cannot be downloaded here); fid_network names the feature network;
 * inception_block_idx null means that network's standard features (2048 for Inception, the
 * reference's default).
 */
@Value.Immutable
@Config
public interface TrainerOptions {
  @Alias("--batch-size")
  @Doc("examples per step")
  @Value.Default default int trainBatchSize() { return 16; }
  @Doc("micro-batches whose gradients make one step")
  @Value.Default default int gradientAccumulateEvery() { return 1; }
  @Doc("flip images left to right at random (true|false)")
  @Value.Default default boolean augmentHorizontalFlip() { return true; }
  @Alias("--lr")
  @Doc("the learning rate")
  @Value.Default default double trainLr() { return 1e-4; }
  @Alias("--steps")
  @Doc("steps to train to")
  @Value.Default default long trainNumSteps() { return 100_000; }
  @Doc("steps between EMA updates")
  @Value.Default default int emaUpdateEvery() { return 10; }
  @Doc("the EMA's decay")
  @Value.Default default double emaDecay() { return 0.995; }
  @Doc("when set, the EMA is the power function of this relative width (Karras et al. 2024), in place of ema_decay"
      + " and its warm-up: the average of about the last sigma_rel * 3.5 of the run so far")
  @Nullable Double emaSigmaRel();
  @Doc("also track power-function EMAs (Karras et al. 2024), one per sigma_rels, and snapshot them for post-hoc"
      + " EMA with the ema command")
  @Value.Default default boolean postHocEma() { return false; }
  @Doc("relative widths (sigma_rel) of the tracked power-function EMAs, each in (0, sqrt(1/12) = 0.2887)")
  @Value.Default default List<Double> sigmaRels() { return List.of(0.05, 0.10); }
  @Doc("steps between post-hoc EMA snapshots, one file per sigma_rels each time (and at the end): 19 per profile"
      + " over the embedded default's 1,900 steps; the more there are, the closer the ema command's fit")
  @Value.Default default long snapshotEvery() { return 100; }
  @Doc("Adam's beta1,beta2")
  @Value.Default default List<Double> adamBetas() { return List.of(0.9, 0.99); }
  @Doc("steps between saves, sample grids and scores")
  @Value.Default default long saveAndSampleEvery() { return 1000; }
  @Doc("images in each sample grid, a perfect square")
  @Value.Default default int numSamples() { return 25; }
  @Doc(Execution.AMP_DOC)
  @Nullable Boolean amp();
  @Doc(Execution.MIXED_PRECISION_TYPE_DOC)
  @Nullable String mixedPrecisionType();
  @Doc(Execution.DEVICE_DOC)
  @Value.Default default String device() { return "cpu"; }
  @Doc(Execution.XLA_DOC)
  @Nullable Boolean xla();
  @Doc("the largest global gradient norm (0 turns clipping off)")
  @Value.Default default double maxGradNorm() { return 1.0; }
  @Doc("seed of the whole run: weights, batches, noise")
  @Value.Default default long seed() { return 0; }
  @Doc("steps between logged losses")
  @Value.Default default int logEvery() { return 10; }
  @Doc("data decoding threads")
  @Value.Default default int loaderThreads() { return 2; }
  @Doc("inv_sqrt is train_lr * lr_sigma_ref / sqrt(max(step / lr_t_ref, 1)) (Karras et al."
      + " 2023); cosine falls from train_lr to 0 at train_num_steps (a resume with more steps stretches what is left)")
  @Value.Default default LearningRateSchedule.Decay lrSchedule() { return LearningRateSchedule.Decay.CONSTANT; }
  @Doc("inv_sqrt's t_ref")
  @Value.Default default double lrTRef() { return 70_000; }
  @Doc("inv_sqrt's sigma_ref")
  @Value.Default default double lrSigmaRef() { return 0.01; }
  @Doc("steps over which the learning rate rises linearly from train_lr / lr_warmup_steps to the schedule's (0: none)")
  @Value.Default default long lrWarmupSteps() { return 0; }
  @Doc("score the EMA weights at every save: the FD of num_fid_samples samples against as many training examples")
  @Value.Default default boolean calculateFid() { return false; }
  @Doc("samples (and training examples) each score takes")
  @Value.Default default int numFidSamples() { return 50_000; }
  @Doc("the feature layer by its size (default: the network's standard one, 2048 for Inception)")
  @Nullable Integer inceptionBlockIdx();
  @Doc("keep the latest checkpoint and the one with the lowest FD (checkpoint-best, also a model folder)")
  @Value.Default default boolean saveBestAndLatestOnly() { return false; }
  @Doc("feature network: the Inception GraphDef classify_image_graph_def.pb or a SavedModel with a 'features'"
      + " output (default for 28x28 grey images: the built-in fashion-mnist-classifier-v1)")
  @Nullable String fidNetwork();
  @Alias("--data")
  @Doc("the data: an image folder, an idx image file (labels beside it are used), a .npy array [N, ...], or WAV"
      + " files (default: the embedded dataset)")
  @Nullable String folder();
  @Doc("L|RGB|RGBA: the mode images are read in (default: as the config's channels say)")
  @Nullable String convertImageTo();
  @Doc("what a step with a non-finite loss or gradient does; it changes no weight, optimiser state or"
      + " EMA either way: stop ends the run naming the step and the last good checkpoint, skip goes on (counting"
      + " skipped steps) and ends after " + NonFiniteSteps.MAX_IN_A_ROW + " in a row")
  @Value.Default default NonFinite nonfinite() { return NonFinite.STOP; }

  /** The builder, starting from the defaults above. */
  class Builder extends ImmutableTrainerOptions.Builder {}

  @Value.Check
  default void check() {
    Check.atLeast("train_batch_size", trainBatchSize(), 1);
    Check.atLeast("gradient_accumulate_every", gradientAccumulateEvery(), 1);
    Check.positive("train_lr", trainLr());
    Check.atLeast("train_num_steps", trainNumSteps(), 1);
    Check.atLeast("ema_update_every", emaUpdateEvery(), 1);
    Check.within("ema_decay", emaDecay(), 0, 1, true);
    if (emaSigmaRel() != null) {
      PowerFunction.check("ema_sigma_rel", emaSigmaRel());
    }
    if (sigmaRels().isEmpty() || sigmaRels().stream().distinct().count() != sigmaRels().size()) {
      throw new IllegalArgumentException("sigma_rels = " + sigmaRels() + " must list at least one value, each once");
    }
    sigmaRels().forEach(s -> PowerFunction.check("sigma_rels", s));
    Check.atLeast("snapshot_every", snapshotEvery(), 1);
    if (adamBetas().size() != 2) {
      throw new IllegalArgumentException("adam_betas = " + adamBetas() + " must be two numbers, (beta1, beta2)");
    }
    new Adam.Options(adamBetas().get(0), adamBetas().get(1), 1e-8);
    Check.atLeast("save_and_sample_every", saveAndSampleEvery(), 1);
    int root = (int) Math.round(Math.sqrt(numSamples()));
    if (numSamples() < 1 || root * root != numSamples()) {
      throw new IllegalArgumentException("num_samples = " + numSamples() + " must be a perfect square (it is laid out as a square grid)");
    }
    if (mixedPrecisionType() != null) {
      Check.oneOf("mixed_precision_type", mixedPrecisionType(), Precision.TYPES);
    }
    Device.parse(device());
    if (!(maxGradNorm() >= 0)) {
      throw new IllegalArgumentException("max_grad_norm = " + maxGradNorm() + " must be >= 0 (0 turns clipping off)");
    }
    Check.atLeast("log_every", logEvery(), 1);
    Check.atLeast("loader_threads", loaderThreads(), 1);
    Check.atLeast("lr_warmup_steps", lrWarmupSteps(), 0);
    LearningRateSchedule.inverseSqrt(lrTRef(), lrSigmaRef());
    if (numFidSamples() < 2) {
      throw new IllegalArgumentException("num_fid_samples = " + numFidSamples() + " must be at least 2 (a covariance needs two)");
    }
    if (inceptionBlockIdx() != null) {
      Check.atLeast("inception_block_idx", inceptionBlockIdx(), 1);
    }
    Objects.requireNonNull(nonfinite(), "nonfinite");
    if (saveBestAndLatestOnly() && !calculateFid()) {
      throw new IllegalArgumentException("save_best_and_latest_only = true needs calculate_fid = true: the best"
          + " checkpoint is the one with the lowest FD");
    }
  }

  /**
   * The device, precision and compilation these options ask for (amp, mixed_precision_type,
   * device, xla), checked against this machine; a fallback is said on {@code log}.
   */
  default Execution execution(Consumer<String> log) {
    return Execution.of(device(), amp(), mixedPrecisionType(), xla(), log);
  }

  /**
   * The schedule these options name (constant, the inverse square root of Karras et al. 2023, or
   * a cosine decay to 0 at train_num_steps), after lr_warmup_steps of linear warm-up.
   */
  default LearningRateSchedule learningRateSchedule() {
    LearningRateSchedule decay = switch (lrSchedule()) {
      case INV_SQRT -> LearningRateSchedule.inverseSqrt(lrTRef(), lrSigmaRef());
      case COSINE -> LearningRateSchedule.cosine(trainNumSteps());
      case CONSTANT -> LearningRateSchedule.CONSTANT;
    };
    return decay.withWarmup(lrWarmupSteps());
  }

  /** The reference's defaults (Trainer1D: no horizontal flips). */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Options a resumed run may change: they do not change its results, say where the data now is,
   * or (train_lr, nonfinite) are how a run that diverged goes on from its last good checkpoint.
   */
  Set<String> FREE_ON_RESUME = Set.of("train_num_steps", "loader_threads", "folder", "train_lr",
      "nonfinite");

  /**
   * Refuses to go on with {@code given} a run of these options (whose checkpoint is {@code run})
   * when they differ in an option outside {@link #FREE_ON_RESUME}: the error names the first such
   * option by its config.json name, the given value and the run's.
   */
  default void checkResume(TrainerOptions given, Path run) {
    JsonObject was = toJson();
    JsonObject now = given.toJson();
    TreeSet<String> keys = new TreeSet<>(was.keySet());
    keys.addAll(now.keySet());
    keys.stream().filter(k -> !FREE_ON_RESUME.contains(k) && !Objects.equals(was.get(k), now.get(k))).findFirst()
        .ifPresent(k -> {
          throw new IllegalArgumentException(k + " = " + (now.has(k) ? now.get(k) : "(not set)") + " conflicts with"
              + " the run's " + k + " = " + (was.has(k) ? was.get(k) : "(not set)") + " (from " + run + "): leave it"
              + " out or give the same value");
        });
  }

  /**
   * The options whose values differ from the reference Trainer's defaults, as key=value in
   * config.json's names ("none" when all are the defaults); the data's location is left out.
   */
  default String differencesFromDefaults() {
    JsonObject given = toJson();
    JsonObject defaults = builder().build().toJson();
    String listed = given.keySet().stream().filter(k -> !k.equals("folder") && !Objects.equals(given.get(k),
        defaults.get(k))).map(k -> k + "=" + (given.get(k).isJsonPrimitive() ? given.get(k).getAsString()
            : given.get(k).toString())).collect(Collectors.joining(", "));
    return listed.isEmpty() ? "none" : listed;
  }

  default TrainStep.Options stepOptions() {
    return new TrainStep.Options(new Adam.Options(adamBetas().get(0), adamBetas().get(1), 1e-8), maxGradNorm(),
        gradientAccumulateEvery(), trainBatchSize());
  }

  default JsonObject toJson() {
    return ConfigRecords.write(this, new JsonObject());
  }

  static TrainerOptions fromJson(JsonObject json) {
    JsonOptions o = new JsonOptions("trainer", json);
    TrainerOptions options = ConfigRecords.build(o, builder());
    o.finish();
    return options;
  }
}
