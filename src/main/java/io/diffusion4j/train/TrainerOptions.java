package io.diffusion4j.train;

import com.google.gson.JsonObject;
import io.diffusion4j.io.JsonOptions;

/**
 * The reference Trainer's options with its names and defaults (train_batch_size 16, train_lr
 * 1e-4, adam_betas (0.9, 0.99), ema_decay 0.995 every 10 steps, max_grad_norm 1, a sample grid of
 * 25 every 1000 steps, num_fid_samples 50000), plus what a reproducible JVM run needs: the seed,
 * how often the loss is logged, and the number of data-loading threads; and the learning-rate
 * schedule (constant, or Karras et al. 2023's inverse square root with t_ref 70000 and sigma_ref
 * 0.01).
 *
 * <p>Scoring differs from the reference where it must: calculate_fid is off unless asked for (the
 * reference's Inception cannot be downloaded here); fid_network names the feature network (the
 * Inception GraphDef or a SavedModel; null: the built-in Fashion-MNIST classifier, for 28x28 grey
 * images only); inception_block_idx null means that network's standard features (2048 for
 * Inception, the reference's default).
 *
 * <p>folder and convert_image_to say where the data came from and how it was read (null folder:
 * the embedded dataset), so that a resumed run reads the same data.
 */
public record TrainerOptions(
    int trainBatchSize,
    int gradientAccumulateEvery,
    boolean augmentHorizontalFlip,
    double trainLr,
    long trainNumSteps,
    int emaUpdateEvery,
    double emaDecay,
    double adamBeta1,
    double adamBeta2,
    long saveAndSampleEvery,
    int numSamples,
    boolean amp,
    String mixedPrecisionType,
    double maxGradNorm,
    long seed,
    int logEvery,
    int loaderThreads,
    String lrSchedule,
    double lrTRef,
    double lrSigmaRef,
    boolean calculateFid,
    int numFidSamples,
    Integer inceptionBlockIdx,
    boolean saveBestAndLatestOnly,
    String fidNetwork,
    String folder,
    String convertImageTo) {

  public TrainerOptions {
    positive("train_batch_size", trainBatchSize);
    positive("gradient_accumulate_every", gradientAccumulateEvery);
    if (!(trainLr > 0)) {
      throw new IllegalArgumentException("train_lr = " + trainLr + " must be > 0");
    }
    if (trainNumSteps < 1) {
      throw new IllegalArgumentException("train_num_steps = " + trainNumSteps + " must be at least 1");
    }
    positive("ema_update_every", emaUpdateEvery);
    if (!(emaDecay >= 0 && emaDecay < 1)) {
      throw new IllegalArgumentException("ema_decay = " + emaDecay + " must be in [0, 1)");
    }
    new Adam.Options(adamBeta1, adamBeta2, 1e-8);
    if (saveAndSampleEvery < 1) {
      throw new IllegalArgumentException("save_and_sample_every = " + saveAndSampleEvery + " must be at least 1");
    }
    int root = (int) Math.round(Math.sqrt(numSamples));
    if (numSamples < 1 || root * root != numSamples) {
      throw new IllegalArgumentException("num_samples = " + numSamples + " must be a perfect square (it is laid out as a square grid)");
    }
    if (!mixedPrecisionType.equals("fp16") && !mixedPrecisionType.equals("bf16")) {
      throw new IllegalArgumentException("mixed_precision_type = \"" + mixedPrecisionType + "\" is not allowed: expected fp16 or bf16");
    }
    if (!(maxGradNorm >= 0)) {
      throw new IllegalArgumentException("max_grad_norm = " + maxGradNorm + " must be >= 0 (0 turns clipping off)");
    }
    positive("log_every", logEvery);
    positive("loader_threads", loaderThreads);
    if (!lrSchedule.equals("constant") && !lrSchedule.equals("inv_sqrt")) {
      throw new IllegalArgumentException("lr_schedule = \"" + lrSchedule + "\" is not allowed: expected constant or inv_sqrt");
    }
    LearningRateSchedule.inverseSqrt(lrTRef, lrSigmaRef);
    if (numFidSamples < 2) {
      throw new IllegalArgumentException("num_fid_samples = " + numFidSamples + " must be at least 2 (a covariance needs two)");
    }
    if (inceptionBlockIdx != null) {
      positive("inception_block_idx", inceptionBlockIdx);
    }
    if (saveBestAndLatestOnly && !calculateFid) {
      throw new IllegalArgumentException("save_best_and_latest_only = true needs calculate_fid = true: the best"
          + " checkpoint is the one with the lowest FD");
    }
  }

  /** The schedule these options name: constant, or the inverse square root of Karras et al. 2023. */
  public LearningRateSchedule learningRateSchedule() {
    return lrSchedule.equals("inv_sqrt") ? LearningRateSchedule.inverseSqrt(lrTRef, lrSigmaRef)
        : LearningRateSchedule.CONSTANT;
  }

  private static void positive(String name, long v) {
    if (v < 1) {
      throw new IllegalArgumentException(name + " = " + v + " must be at least 1");
    }
  }

  /** The reference's defaults (Trainer1D: no horizontal flips). */
  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.trainBatchSize = trainBatchSize;
    b.gradientAccumulateEvery = gradientAccumulateEvery;
    b.augmentHorizontalFlip = augmentHorizontalFlip;
    b.trainLr = trainLr;
    b.trainNumSteps = trainNumSteps;
    b.emaUpdateEvery = emaUpdateEvery;
    b.emaDecay = emaDecay;
    b.adamBeta1 = adamBeta1;
    b.adamBeta2 = adamBeta2;
    b.saveAndSampleEvery = saveAndSampleEvery;
    b.numSamples = numSamples;
    b.amp = amp;
    b.mixedPrecisionType = mixedPrecisionType;
    b.maxGradNorm = maxGradNorm;
    b.seed = seed;
    b.logEvery = logEvery;
    b.loaderThreads = loaderThreads;
    b.lrSchedule = lrSchedule;
    b.lrTRef = lrTRef;
    b.lrSigmaRef = lrSigmaRef;
    b.calculateFid = calculateFid;
    b.numFidSamples = numFidSamples;
    b.inceptionBlockIdx = inceptionBlockIdx;
    b.saveBestAndLatestOnly = saveBestAndLatestOnly;
    b.fidNetwork = fidNetwork;
    b.folder = folder;
    b.convertImageTo = convertImageTo;
    return b;
  }

  /** Options a resumed run may change: they do not change its results, or say where the data now is. */
  static final java.util.Set<String> FREE_ON_RESUME = java.util.Set.of("train_num_steps", "loader_threads", "folder");

  /**
   * The first option (by its config.json name) in which {@code other} differs from these options,
   * leaving out {@link #FREE_ON_RESUME}; empty when a run with these options may go on with
   * {@code other}.
   */
  public java.util.Optional<String> conflictOnResume(TrainerOptions other) {
    JsonObject a = toJson();
    JsonObject b = other.toJson();
    java.util.TreeSet<String> keys = new java.util.TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    return keys.stream().filter(k -> !FREE_ON_RESUME.contains(k) && !java.util.Objects.equals(a.get(k), b.get(k)))
        .findFirst();
  }

  public TrainStep.Options stepOptions() {
    return new TrainStep.Options(new Adam.Options(adamBeta1, adamBeta2, 1e-8), maxGradNorm, gradientAccumulateEvery);
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("train_batch_size", trainBatchSize);
    j.addProperty("gradient_accumulate_every", gradientAccumulateEvery);
    j.addProperty("augment_horizontal_flip", augmentHorizontalFlip);
    j.addProperty("train_lr", trainLr);
    j.addProperty("train_num_steps", trainNumSteps);
    j.addProperty("ema_update_every", emaUpdateEvery);
    j.addProperty("ema_decay", emaDecay);
    var betas = new com.google.gson.JsonArray();
    betas.add(adamBeta1);
    betas.add(adamBeta2);
    j.add("adam_betas", betas);
    j.addProperty("save_and_sample_every", saveAndSampleEvery);
    j.addProperty("num_samples", numSamples);
    j.addProperty("amp", amp);
    j.addProperty("mixed_precision_type", mixedPrecisionType);
    j.addProperty("max_grad_norm", maxGradNorm);
    j.addProperty("seed", seed);
    j.addProperty("log_every", logEvery);
    j.addProperty("loader_threads", loaderThreads);
    j.addProperty("lr_schedule", lrSchedule);
    j.addProperty("lr_t_ref", lrTRef);
    j.addProperty("lr_sigma_ref", lrSigmaRef);
    j.addProperty("calculate_fid", calculateFid);
    j.addProperty("num_fid_samples", numFidSamples);
    if (inceptionBlockIdx != null) {
      j.addProperty("inception_block_idx", inceptionBlockIdx);
    }
    j.addProperty("save_best_and_latest_only", saveBestAndLatestOnly);
    if (fidNetwork != null) {
      j.addProperty("fid_network", fidNetwork);
    }
    if (folder != null) {
      j.addProperty("folder", folder);
    }
    if (convertImageTo != null) {
      j.addProperty("convert_image_to", convertImageTo);
    }
    return j;
  }

  public static TrainerOptions fromJson(JsonObject json) {
    JsonOptions o = new JsonOptions("trainer", json);
    Builder b = builder();
    b.trainBatchSize = o.getInt("train_batch_size", b.trainBatchSize);
    b.gradientAccumulateEvery = o.getInt("gradient_accumulate_every", b.gradientAccumulateEvery);
    b.augmentHorizontalFlip = o.getBool("augment_horizontal_flip", b.augmentHorizontalFlip);
    b.trainLr = o.getDouble("train_lr", b.trainLr);
    b.trainNumSteps = (long) o.getDouble("train_num_steps", b.trainNumSteps);
    b.emaUpdateEvery = o.getInt("ema_update_every", b.emaUpdateEvery);
    b.emaDecay = o.getDouble("ema_decay", b.emaDecay);
    if (o.has("adam_betas")) {
      var betas = o.get("adam_betas").getAsJsonArray();
      b.adamBeta1 = betas.get(0).getAsDouble();
      b.adamBeta2 = betas.get(1).getAsDouble();
    }
    b.saveAndSampleEvery = (long) o.getDouble("save_and_sample_every", b.saveAndSampleEvery);
    b.numSamples = o.getInt("num_samples", b.numSamples);
    b.amp = o.getBool("amp", b.amp);
    b.mixedPrecisionType = o.getString("mixed_precision_type", b.mixedPrecisionType);
    b.maxGradNorm = o.getDouble("max_grad_norm", b.maxGradNorm);
    b.seed = (long) o.getDouble("seed", b.seed);
    b.logEvery = o.getInt("log_every", b.logEvery);
    b.loaderThreads = o.getInt("loader_threads", b.loaderThreads);
    b.lrSchedule = o.getString("lr_schedule", b.lrSchedule);
    b.lrTRef = o.getDouble("lr_t_ref", b.lrTRef);
    b.lrSigmaRef = o.getDouble("lr_sigma_ref", b.lrSigmaRef);
    b.calculateFid = o.getBool("calculate_fid", b.calculateFid);
    b.numFidSamples = o.getInt("num_fid_samples", b.numFidSamples);
    b.inceptionBlockIdx = o.getIntOrNull("inception_block_idx");
    b.saveBestAndLatestOnly = o.getBool("save_best_and_latest_only", b.saveBestAndLatestOnly);
    b.fidNetwork = o.getString("fid_network", b.fidNetwork);
    b.folder = o.getString("folder", b.folder);
    b.convertImageTo = o.getString("convert_image_to", b.convertImageTo);
    o.finish();
    return b.build();
  }

  /** Builds options; every setter takes the reference's option of the same (camelCase) name. */
  public static final class Builder {
    private int trainBatchSize = 16;
    private int gradientAccumulateEvery = 1;
    private boolean augmentHorizontalFlip = true;
    private double trainLr = 1e-4;
    private long trainNumSteps = 100_000;
    private int emaUpdateEvery = 10;
    private double emaDecay = 0.995;
    private double adamBeta1 = 0.9;
    private double adamBeta2 = 0.99;
    private long saveAndSampleEvery = 1000;
    private int numSamples = 25;
    private boolean amp;
    private String mixedPrecisionType = "fp16";
    private double maxGradNorm = 1.0;
    private long seed;
    private int logEvery = 10;
    private int loaderThreads = 2;
    private String lrSchedule = "constant";
    private double lrTRef = 70_000;
    private double lrSigmaRef = 0.01;
    private boolean calculateFid;
    private int numFidSamples = 50_000;
    private Integer inceptionBlockIdx;
    private boolean saveBestAndLatestOnly;
    private String fidNetwork;
    private String folder;
    private String convertImageTo;

    public Builder trainBatchSize(int v) { trainBatchSize = v; return this; }
    public Builder gradientAccumulateEvery(int v) { gradientAccumulateEvery = v; return this; }
    public Builder augmentHorizontalFlip(boolean v) { augmentHorizontalFlip = v; return this; }
    public Builder trainLr(double v) { trainLr = v; return this; }
    public Builder trainNumSteps(long v) { trainNumSteps = v; return this; }
    public Builder emaUpdateEvery(int v) { emaUpdateEvery = v; return this; }
    public Builder emaDecay(double v) { emaDecay = v; return this; }
    public Builder adamBetas(double beta1, double beta2) { adamBeta1 = beta1; adamBeta2 = beta2; return this; }
    public Builder saveAndSampleEvery(long v) { saveAndSampleEvery = v; return this; }
    public Builder numSamples(int v) { numSamples = v; return this; }
    public Builder amp(boolean v) { amp = v; return this; }
    public Builder mixedPrecisionType(String v) { mixedPrecisionType = v; return this; }
    public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
    public Builder seed(long v) { seed = v; return this; }
    public Builder logEvery(int v) { logEvery = v; return this; }
    public Builder loaderThreads(int v) { loaderThreads = v; return this; }
    public Builder lrSchedule(String v) { lrSchedule = v; return this; }
    public Builder lrTRef(double v) { lrTRef = v; return this; }
    public Builder lrSigmaRef(double v) { lrSigmaRef = v; return this; }
    public Builder calculateFid(boolean v) { calculateFid = v; return this; }
    public Builder numFidSamples(int v) { numFidSamples = v; return this; }
    /** The feature layer by its size; null: the network's standard features. */
    public Builder inceptionBlockIdx(Integer v) { inceptionBlockIdx = v; return this; }
    public Builder saveBestAndLatestOnly(boolean v) { saveBestAndLatestOnly = v; return this; }
    /** The feature network's path (Inception GraphDef or SavedModel); null: the built-in classifier. */
    public Builder fidNetwork(String v) { fidNetwork = v; return this; }
    /** The data's path (image folder, idx or npy file, WAV folder); null: the embedded dataset. */
    public Builder folder(String v) { folder = v; return this; }
    /** The mode images are converted to (L, RGB, RGBA); null: as the config's channels imply. */
    public Builder convertImageTo(String v) { convertImageTo = v; return this; }

    public TrainerOptions build() {
      return new TrainerOptions(trainBatchSize, gradientAccumulateEvery, augmentHorizontalFlip, trainLr,
          trainNumSteps, emaUpdateEvery, emaDecay, adamBeta1, adamBeta2, saveAndSampleEvery, numSamples,
          amp, mixedPrecisionType, maxGradNorm, seed, logEvery, loaderThreads, lrSchedule, lrTRef, lrSigmaRef,
          calculateFid, numFidSamples, inceptionBlockIdx, saveBestAndLatestOnly, fidNetwork, folder, convertImageTo);
    }
  }
}
