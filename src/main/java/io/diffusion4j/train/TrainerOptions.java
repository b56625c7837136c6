package io.diffusion4j.train;

import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Alias;
import io.diffusion4j.io.ConfigRecords.Doc;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.runtime.Device;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.runtime.Precision;
import io.diffusion4j.train.posthoc.PowerFunction;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The reference Trainer's options with its names and defaults (the builder's fields), plus what a
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
public record TrainerOptions(
    int trainBatchSize,
    int gradientAccumulateEvery,
    boolean augmentHorizontalFlip,
    double trainLr,
    long trainNumSteps,
    int emaUpdateEvery,
    double emaDecay,
    Double emaSigmaRel,
    boolean postHocEma,
    List<Double> sigmaRels,
    long snapshotEvery,
    List<Double> adamBetas,
    long saveAndSampleEvery,
    int numSamples,
    Boolean amp,
    String mixedPrecisionType,
    String device,
    Boolean xla,
    double maxGradNorm,
    long seed,
    int logEvery,
    int loaderThreads,
    String lrSchedule,
    double lrTRef,
    double lrSigmaRef,
    long lrWarmupSteps,
    boolean calculateFid,
    int numFidSamples,
    Integer inceptionBlockIdx,
    boolean saveBestAndLatestOnly,
    String fidNetwork,
    String folder,
    String convertImageTo,
    NonFinite nonfinite) {

  public TrainerOptions {
    Check.atLeast("train_batch_size", trainBatchSize, 1);
    Check.atLeast("gradient_accumulate_every", gradientAccumulateEvery, 1);
    Check.positive("train_lr", trainLr);
    Check.atLeast("train_num_steps", trainNumSteps, 1);
    Check.atLeast("ema_update_every", emaUpdateEvery, 1);
    Check.within("ema_decay", emaDecay, 0, 1, true);
    if (emaSigmaRel != null) {
      PowerFunction.check("ema_sigma_rel", emaSigmaRel);
    }
    if (sigmaRels.isEmpty() || sigmaRels.stream().distinct().count() != sigmaRels.size()) {
      throw new IllegalArgumentException("sigma_rels = " + sigmaRels + " must list at least one value, each once");
    }
    sigmaRels = List.copyOf(sigmaRels);
    sigmaRels.forEach(s -> PowerFunction.check("sigma_rels", s));
    Check.atLeast("snapshot_every", snapshotEvery, 1);
    if (adamBetas.size() != 2) {
      throw new IllegalArgumentException("adam_betas = " + adamBetas + " must be two numbers, (beta1, beta2)");
    }
    adamBetas = List.copyOf(adamBetas);
    new Adam.Options(adamBetas.get(0), adamBetas.get(1), 1e-8);
    Check.atLeast("save_and_sample_every", saveAndSampleEvery, 1);
    int root = (int) Math.round(Math.sqrt(numSamples));
    if (numSamples < 1 || root * root != numSamples) {
      throw new IllegalArgumentException("num_samples = " + numSamples + " must be a perfect square (it is laid out as a square grid)");
    }
    if (mixedPrecisionType != null) {
      Check.oneOf("mixed_precision_type", mixedPrecisionType, Precision.TYPES);
    }
    Device.parse(device);
    if (!(maxGradNorm >= 0)) {
      throw new IllegalArgumentException("max_grad_norm = " + maxGradNorm + " must be >= 0 (0 turns clipping off)");
    }
    Check.atLeast("log_every", logEvery, 1);
    Check.atLeast("loader_threads", loaderThreads, 1);
    Check.oneOf("lr_schedule", lrSchedule, "constant", "inv_sqrt", "cosine");
    Check.atLeast("lr_warmup_steps", lrWarmupSteps, 0);
    LearningRateSchedule.inverseSqrt(lrTRef, lrSigmaRef);
    if (numFidSamples < 2) {
      throw new IllegalArgumentException("num_fid_samples = " + numFidSamples + " must be at least 2 (a covariance needs two)");
    }
    if (inceptionBlockIdx != null) {
      Check.atLeast("inception_block_idx", inceptionBlockIdx, 1);
    }
    Objects.requireNonNull(nonfinite, "nonfinite");
    if (saveBestAndLatestOnly && !calculateFid) {
      throw new IllegalArgumentException("save_best_and_latest_only = true needs calculate_fid = true: the best"
          + " checkpoint is the one with the lowest FD");
    }
  }

  /**
   * The device, precision and compilation these options ask for (amp, mixed_precision_type,
   * device, xla), checked against this machine; a fallback is said on {@code log}.
   */
  public Execution execution(java.util.function.Consumer<String> log) {
    return Execution.of(device, amp, mixedPrecisionType, xla, log);
  }

  /**
   * The schedule these options name (constant, the inverse square root of Karras et al. 2023, or
   * a cosine decay to 0 at train_num_steps), after lr_warmup_steps of linear warm-up.
   */
  public LearningRateSchedule learningRateSchedule() {
    LearningRateSchedule decay = switch (lrSchedule) {
      case "inv_sqrt" -> LearningRateSchedule.inverseSqrt(lrTRef, lrSigmaRef);
      case "cosine" -> LearningRateSchedule.cosine(trainNumSteps);
      default -> LearningRateSchedule.CONSTANT;
    };
    return decay.withWarmup(lrWarmupSteps);
  }

  /** The reference's defaults (Trainer1D: no horizontal flips). */
  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return ConfigRecords.copy(this, new Builder());
  }

  /**
   * Options a resumed run may change: they do not change its results, say where the data now is,
   * or (train_lr, nonfinite) are how a run that diverged goes on from its last good checkpoint.
   */
  static final Set<String> FREE_ON_RESUME = Set.of("train_num_steps", "loader_threads", "folder", "train_lr",
      "nonfinite");

  /**
   * Refuses to go on with {@code given} a run of these options (whose checkpoint is {@code run})
   * when they differ in an option outside {@link #FREE_ON_RESUME}: the error names the first such
   * option by its config.json name, the given value and the run's.
   */
  public void checkResume(TrainerOptions given, Path run) {
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
  public String differencesFromDefaults() {
    JsonObject given = toJson();
    JsonObject defaults = builder().build().toJson();
    String listed = given.keySet().stream().filter(k -> !k.equals("folder") && !Objects.equals(given.get(k),
        defaults.get(k))).map(k -> k + "=" + (given.get(k).isJsonPrimitive() ? given.get(k).getAsString()
            : given.get(k).toString())).collect(java.util.stream.Collectors.joining(", "));
    return listed.isEmpty() ? "none" : listed;
  }

  public TrainStep.Options stepOptions() {
    return new TrainStep.Options(new Adam.Options(adamBetas.get(0), adamBetas.get(1), 1e-8), maxGradNorm,
        gradientAccumulateEvery, trainBatchSize);
  }

  public JsonObject toJson() {
    return ConfigRecords.write(this, Builder.class);
  }

  public static TrainerOptions fromJson(JsonObject json) {
    JsonOptions o = new JsonOptions("trainer", json);
    Builder b = ConfigRecords.read(o, builder());
    o.finish();
    return b.build();
  }

  /** The options with their defaults and what they mean; every setter takes the option of the same name. */
  public static final class Builder {
    @Alias("--batch-size")
    @Doc("examples per step")
    private int trainBatchSize = 16;
    @Doc("micro-batches whose gradients make one step")
    private int gradientAccumulateEvery = 1;
    @Doc("flip images left to right at random (true|false)")
    private boolean augmentHorizontalFlip = true;
    @Alias("--lr")
    @Doc("the learning rate")
    private double trainLr = 1e-4;
    @Alias("--steps")
    @Doc("steps to train to")
    private long trainNumSteps = 100_000;
    @Doc("steps between EMA updates")
    private int emaUpdateEvery = 10;
    @Doc("the EMA's decay")
    private double emaDecay = 0.995;
    @Doc("when set, the EMA is the power function of this relative width (Karras et al. 2024), in place of ema_decay"
        + " and its warm-up: the average of about the last sigma_rel * 3.5 of the run so far")
    private Double emaSigmaRel;
    @Doc("also track power-function EMAs (Karras et al. 2024), one per sigma_rels, and snapshot them for post-hoc"
        + " EMA with the ema command")
    private boolean postHocEma;
    @Doc("relative widths (sigma_rel) of the tracked power-function EMAs, each in (0, sqrt(1/12) = 0.2887)")
    private List<Double> sigmaRels = List.of(0.05, 0.10);
    @Doc("steps between post-hoc EMA snapshots, one file per sigma_rels each time (and at the end): 19 per profile"
        + " over the embedded default's 1,900 steps; the more there are, the closer the ema command's fit")
    private long snapshotEvery = 100;
    @Doc("Adam's beta1,beta2")
    private List<Double> adamBetas = List.of(0.9, 0.99);
    @Doc("steps between saves, sample grids and scores")
    private long saveAndSampleEvery = 1000;
    @Doc("images in each sample grid, a perfect square")
    private int numSamples = 25;
    @Doc(Execution.AMP_DOC)
    private Boolean amp;
    @Doc(Execution.MIXED_PRECISION_TYPE_DOC)
    private String mixedPrecisionType;
    @Doc(Execution.DEVICE_DOC)
    private String device = "cpu";
    @Doc(Execution.XLA_DOC)
    private Boolean xla;
    @Doc("the largest global gradient norm (0 turns clipping off)")
    private double maxGradNorm = 1.0;
    @Doc("seed of the whole run: weights, batches, noise")
    private long seed;
    @Doc("steps between logged losses")
    private int logEvery = 10;
    @Doc("data decoding threads")
    private int loaderThreads = 2;
    @Doc("constant|inv_sqrt|cosine: inv_sqrt is train_lr * lr_sigma_ref / sqrt(max(step / lr_t_ref, 1)) (Karras et al."
        + " 2023); cosine falls from train_lr to 0 at train_num_steps (a resume with more steps stretches what is left)")
    private String lrSchedule = "constant";
    @Doc("inv_sqrt's t_ref")
    private double lrTRef = 70_000;
    @Doc("inv_sqrt's sigma_ref")
    private double lrSigmaRef = 0.01;
    @Doc("steps over which the learning rate rises linearly from train_lr / lr_warmup_steps to the schedule's (0: none)")
    private long lrWarmupSteps;
    @Doc("score the EMA weights at every save: the FD of num_fid_samples samples against as many training examples")
    private boolean calculateFid;
    @Doc("samples (and training examples) each score takes")
    private int numFidSamples = 50_000;
    @Doc("the feature layer by its size (default: the network's standard one, 2048 for Inception)")
    private Integer inceptionBlockIdx;
    @Doc("keep the latest checkpoint and the one with the lowest FD (checkpoint-best, also a model folder)")
    private boolean saveBestAndLatestOnly;
    @Doc("feature network: the Inception GraphDef classify_image_graph_def.pb or a SavedModel with a 'features'"
        + " output (default for 28x28 grey images: the built-in fashion-mnist-classifier-v1)")
    private String fidNetwork;
    @Alias("--data")
    @Doc("the data: an image folder, an idx image file (labels beside it are used), a .npy array [N, ...], or WAV"
        + " files (default: the embedded dataset)")
    private String folder;
    @Doc("L|RGB|RGBA: the mode images are read in (default: as the config's channels say)")
    private String convertImageTo;
    @Doc("what a step with a non-finite loss or gradient does; it changes no weight, optimiser state or"
        + " EMA either way: stop ends the run naming the step and the last good checkpoint, skip goes on (counting"
        + " skipped steps) and ends after " + NonFiniteSteps.MAX_IN_A_ROW + " in a row")
    private NonFinite nonfinite = NonFinite.STOP;

    public Builder trainBatchSize(int v) { trainBatchSize = v; return this; }
    public Builder gradientAccumulateEvery(int v) { gradientAccumulateEvery = v; return this; }
    public Builder augmentHorizontalFlip(boolean v) { augmentHorizontalFlip = v; return this; }
    public Builder trainLr(double v) { trainLr = v; return this; }
    public Builder trainNumSteps(long v) { trainNumSteps = v; return this; }
    public Builder emaUpdateEvery(int v) { emaUpdateEvery = v; return this; }
    public Builder emaDecay(double v) { emaDecay = v; return this; }
    public Builder emaSigmaRel(Double v) { emaSigmaRel = v; return this; }
    public Builder postHocEma(boolean v) { postHocEma = v; return this; }
    public Builder sigmaRels(double... v) { sigmaRels = Arrays.stream(v).boxed().toList(); return this; }
    public Builder snapshotEvery(long v) { snapshotEvery = v; return this; }
    public Builder adamBetas(double beta1, double beta2) { adamBetas = List.of(beta1, beta2); return this; }
    public Builder saveAndSampleEvery(long v) { saveAndSampleEvery = v; return this; }
    public Builder numSamples(int v) { numSamples = v; return this; }
    public Builder amp(Boolean v) { amp = v; return this; }
    public Builder mixedPrecisionType(String v) { mixedPrecisionType = v; return this; }
    public Builder device(String v) { device = v; return this; }
    public Builder xla(Boolean v) { xla = v; return this; }
    public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
    public Builder seed(long v) { seed = v; return this; }
    public Builder logEvery(int v) { logEvery = v; return this; }
    public Builder loaderThreads(int v) { loaderThreads = v; return this; }
    public Builder lrSchedule(String v) { lrSchedule = v; return this; }
    public Builder lrTRef(double v) { lrTRef = v; return this; }
    public Builder lrSigmaRef(double v) { lrSigmaRef = v; return this; }
    public Builder lrWarmupSteps(long v) { lrWarmupSteps = v; return this; }
    public Builder calculateFid(boolean v) { calculateFid = v; return this; }
    public Builder numFidSamples(int v) { numFidSamples = v; return this; }
    public Builder inceptionBlockIdx(Integer v) { inceptionBlockIdx = v; return this; }
    public Builder saveBestAndLatestOnly(boolean v) { saveBestAndLatestOnly = v; return this; }
    public Builder fidNetwork(String v) { fidNetwork = v; return this; }
    public Builder folder(String v) { folder = v; return this; }
    public Builder convertImageTo(String v) { convertImageTo = v; return this; }
    public Builder nonfinite(NonFinite v) { nonfinite = v; return this; }

    public TrainerOptions build() {
      return new TrainerOptions(trainBatchSize, gradientAccumulateEvery, augmentHorizontalFlip, trainLr,
          trainNumSteps, emaUpdateEvery, emaDecay, emaSigmaRel, postHocEma, sigmaRels, snapshotEvery, adamBetas, saveAndSampleEvery, numSamples, amp,
          mixedPrecisionType, device, xla, maxGradNorm, seed, logEvery, loaderThreads, lrSchedule, lrTRef, lrSigmaRef,
          lrWarmupSteps, calculateFid, numFidSamples, inceptionBlockIdx, saveBestAndLatestOnly, fidNetwork, folder, convertImageTo,
          nonfinite);
    }
  }
}
