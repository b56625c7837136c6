package io.diffusion4j.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.data.BatchLoader;
import io.diffusion4j.distribute.Cluster;
import io.diffusion4j.distribute.Collectives;
import io.diffusion4j.distribute.Handshake;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.eval.FeatureNetwork;
import io.diffusion4j.eval.FeatureStatistics;
import io.diffusion4j.eval.FrechetDistance;
import io.diffusion4j.eval.GeneratedImages;
import io.diffusion4j.eval.StatisticsCache;
import io.diffusion4j.io.AtomicFiles;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.ImageGrid;
import io.diffusion4j.io.ProgressLine;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.runtime.StopRequest;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.train.posthoc.PowerFunctionEma;
import io.diffusion4j.train.posthoc.Snapshots;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Trains a diffusion model on a dataset, as the reference's Trainer and Trainer1D do (one class
 * for both: the model's rank decides), and keeps a results folder that is at once the model
 * folder of the contracts and the run's record:
 * <pre>
 *   config.json, model.safetensors, ema.safetensors   always the latest save
 *   sample-STEP.png                                    a grid from the EMA weights at each save
 *   metrics.jsonl                                      step, loss, lr, time at every logged step;
 *                                                      step, fd, network at every save with calculate_fid
 *   checkpoint.json, checkpoint-STEP/                  what {@link #resume} continues from
 *   checkpoint-best/                                   with save_best_and_latest_only: the lowest FD's
 *   fid-stats-NETWORK.safetensors                      the data's feature statistics (calculate_fid)
 *   post-hoc-ema/ema-SIGMA_REL-STEP.safetensors        with post_hoc_ema: each profile every snapshot_every steps
 * </pre>
 * With calculate_fid, every save also scores num_fid_samples samples of the EMA weights against
 * as many training examples: the Fréchet distance in the features of the run's feature network,
 * logged and shown under that network's name.
 * A run is a pure function of its seed: the batches, every random draw and the EMA schedule
 * depend only on (seed, step), so a run stopped and resumed ends bit for bit where an
 * uninterrupted one does. A signal caught by {@link io.diffusion4j.runtime.StopRequest} ends the
 * run at the next step boundary with a checkpoint of that step ({@link TrainingStopped}).
 */
public final class Trainer implements AutoCloseable {
  public static final String METRICS = "metrics.jsonl";
  /** The TensorBoard log folder inside the results folder. */
  public static final String LOGS = "logs";

  private final DiffusionModel model;
  /** This process's cluster, or null when it trains alone. */
  private final Cluster cluster;
  private final Dataset data;
  private final TrainerOptions options;
  private final Path folder;
  private final boolean createdFolder;
  private final long startStep;
  private final TrainStep step;
  private final Ema ema;
  /** The power-function EMAs of post_hoc_ema, or null. */
  private final PowerFunctionEma postHoc;
  private final FeatureNetwork fidNetwork;
  private FeatureStatistics dataStatistics;
  private double bestFd = Double.POSITIVE_INFINITY;
  private final LearningRateSchedule schedule;
  private PrintStream log = System.err;
  /** metrics.jsonl and the TensorBoard events; null when this trainer writes nothing (a worker). */
  private final RunRecord record;
  private String score = "";
  /** What a resume changed in the learning rate, said when training starts; empty when nothing. */
  private String resumeNotice = "";

  /** Opens a worker's copy of the data of the run it joins. */
  @FunctionalInterface
  public interface DataSource {
    Dataset open(ModelConfig config, TrainerOptions options) throws IOException;
  }

  /** What a finished run leaves behind. */
  public record Result(Path folder, Path lastSampleGrid, long steps, float lastLoss) {}

  /** Assigns the chief's value to every variable of a worker's graph: replicas start identical. */
  private final Op fromChief;

  private Trainer(DiffusionModel model, Cluster cluster, Dataset data, TrainerOptions options, Path folder,
      boolean createdFolder, long startStep, FeatureNetwork fidNetwork) {
    this.fidNetwork = fidNetwork;
    this.model = model;
    this.cluster = cluster;
    this.data = data;
    this.options = options;
    this.folder = folder;
    this.createdFolder = createdFolder;
    this.startStep = startStep;
    this.schedule = options.learningRateSchedule();
    this.record = folder == null ? null : new RunRecord(folder);
    Ops replicaOps = model.ops().withSubScope("replicas");
    Collectives replicas = cluster == null ? null : new Collectives(replicaOps, cluster.config());
    this.step = new TrainStep(model, options.stepOptions(), replicas);
    this.ema = new Ema(model.ops(), model.network().parameters(), model.emaNetwork().orElseThrow().parameters(),
        options.emaDecay(), options.emaSigmaRel(), options.emaUpdateEvery(), step.applied());
    // before fromChief, which replicates every variable the graph has by then
    this.postHoc = options.postHocEma() ? new PowerFunctionEma(model.ops(), model.network().parameters(),
        options.sigmaRels(), model.session(), step.applied()) : null;
    this.fromChief = replicas == null ? null : fromChief(replicaOps, model, replicas);
  }

  private static Op fromChief(Ops tf, DiffusionModel model, Collectives replicas) {
    List<Operand<TFloat32>> variables = new ArrayList<>();
    model.graph().operations().forEachRemaining(op -> {
      if (op.type().equals("VariableV2")) {
        variables.add(op.<TFloat32>output(0));
      }
    });
    List<Operand<TFloat32>> values = replicas.fromChief(variables);
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < variables.size(); i++) {
      assigns.add(tf.assign(variables.get(i), values.get(i)));
    }
    return tf.withControlDependencies(assigns).noOp();
  }

  /**
   * Starts a new run writing to {@code resultsFolder}, which must not hold a checkpoint already
   * (resume that instead). Nothing is written until training starts.
   */
  public static Trainer create(ModelConfig config, Dataset data, TrainerOptions options, Path resultsFolder)
      throws IOException {
    return create(config, data, options, resultsFolder, null);
  }

  /** As {@link #create(ModelConfig, Dataset, TrainerOptions, Path)}, as the chief of {@code cluster} (or alone when null). */
  public static Trainer create(ModelConfig config, Dataset data, TrainerOptions options, Path resultsFolder,
      Cluster cluster) throws IOException {
    if (config.diffusion() == null) {
      throw new IllegalArgumentException("training needs a config with a \"diffusion\" section");
    }
    if (Checkpoints.exists(resultsFolder)) {
      throw new IllegalArgumentException(resultsFolder + " already holds a training run: resume it (--resume)"
          + " or choose another folder");
    }
    checkData(config, data, options, cluster);
    boolean created = !Files.exists(resultsFolder);
    announce(cluster, config, options, 0);
    Trainer t = start(config, cluster, data, options, resultsFolder, created, 0);
    t.replicate();
    return t;
  }

  /**
   * Joins the run that the chief of {@code cluster} trains, as one of its other workers: the
   * run's config, options and step come from the chief, the weights too; {@code dataFor} opens
   * this worker's copy of the data. Such a trainer writes nothing.
   */
  public static Trainer follow(Cluster cluster, DataSource dataFor) throws IOException {
    JsonObject run = JsonParser.parseString(Handshake.share(cluster, null)).getAsJsonObject();
    ModelConfig config = ModelConfig.parse(run.getAsJsonObject("config").toString());
    TrainerOptions options = TrainerOptions.fromJson(run.getAsJsonObject("options"));
    Dataset data = dataFor.open(config, options);
    checkData(config, data, options, cluster);
    Trainer t = start(config, cluster, data, options, null, false, run.get("step").getAsLong());
    t.replicate();
    return t;
  }

  /**
   * The chief tells the others the run they join, before any worker builds its model: every
   * worker must build its collectives in the same order.
   */
  private static void announce(Cluster cluster, ModelConfig config, TrainerOptions options, long step) {
    if (cluster != null) {
      JsonObject run = new JsonObject();
      run.add("config", config.toJson());
      run.add("options", options.toJson());
      run.addProperty("step", step);
      Handshake.share(cluster, run.toString());
    }
  }

  /** Every worker takes the chief's variables (initialised or restored). */
  private void replicate() {
    if (cluster != null) {
      model.session().run(fromChief);
    }
  }

  /** The model, the feature network when scoring, and the trainer over them; nothing leaks on failure. */
  private static Trainer start(ModelConfig config, Cluster cluster, Dataset data, TrainerOptions options, Path folder,
      boolean created, long step) throws IOException {
    // only the chief scores samples
    FeatureNetwork net = options.calculateFid() && folder != null ? fidNetwork(config, options) : null;
    DiffusionModel model = null;
    try {
      Execution execution = options.execution(System.err::println);
      model = DiffusionModel.create(config, options.seed(), true, execution,
          cluster == null ? execution::session : g -> cluster.session(g, execution));
      return new Trainer(model, cluster, data, options, folder, created, step, net);
    } catch (RuntimeException e) {
      if (model != null) {
        model.close();
      }
      if (net != null) {
        net.close();
      }
      throw e;
    }
  }

  private static FeatureNetwork fidNetwork(ModelConfig config, TrainerOptions options) throws IOException {
    if (config.network().spatialRank() != 2) {
      throw new IllegalArgumentException("calculate_fid = true needs a model of images; this one makes sequences "
          + Arrays.toString(config.sampleShape()));
    }
    return FeatureNetwork.open(options.fidNetwork() == null ? null : Path.of(options.fidNetwork()),
        options.inceptionBlockIdx(), config.sampleShape());
  }

  /**
   * Continues the run in {@code resultsFolder} from its latest checkpoint with the options it was
   * started with, up to {@code trainNumSteps} (null: the run's own).
   */
  public static Trainer resume(Path resultsFolder, Dataset data, Long trainNumSteps) throws IOException {
    TrainerOptions options = Checkpoints.read(resultsFolder).options();
    return resume(resultsFolder, data, trainNumSteps == null ? options
        : TrainerOptions.builder().from(options).trainNumSteps(trainNumSteps).build());
  }

  /**
   * Continues the run in {@code resultsFolder} with {@code options}, which may differ from the
   * run's own only in train_num_steps, loader_threads and folder (the data's location): anything
   * else would not end where the uninterrupted run does.
   */
  public static Trainer resume(Path resultsFolder, Dataset data, TrainerOptions options) throws IOException {
    return resume(resultsFolder, data, options, null);
  }

  /** As {@link #resume(Path, Dataset, TrainerOptions)}, as the chief of {@code cluster} (or alone when null). */
  public static Trainer resume(Path resultsFolder, Dataset data, TrainerOptions options, Cluster cluster)
      throws IOException {
    Checkpoints.Info info = Checkpoints.read(resultsFolder);
    ModelConfig config = ModelConfig.read(resultsFolder.resolve(DiffusionModel.CONFIG));
    info.options().checkResume(options, info.directory());
    checkData(config, data, options, cluster);
    announce(cluster, config, options, info.step());
    Trainer t = start(config, cluster, data, options, resultsFolder, false, info.step());
    t.resumeNotice = learningRateChange(info.options(), options, info.step());
    try {
      Checkpoints.restore(info, t.model.session());
      t.replicate();
      t.record.truncate(info.step());
      Snapshots.removeAfter(resultsFolder, info.step());
      Optional<Checkpoints.Best> best = Checkpoints.best(resultsFolder);
      if (best.isPresent()) {
        t.bestFd = best.get().fd();
      }
    } catch (IOException | RuntimeException e) {
      t.close();
      throw e;
    }
    return t;
  }

  /**
   * The line a resume says when its learning rate at the checkpoint's step differs from the run's:
   * another --lr, or a schedule that depends on --steps (the cosine decay) stretched over more.
   */
  private static String learningRateChange(TrainerOptions run, TrainerOptions resumed, long step) {
    double before = run.learningRateSchedule().lr(run.trainLr(), step);
    double after = resumed.learningRateSchedule().lr(resumed.trainLr(), step);
    if (before == after) {
      return "";
    }
    String why = run.trainLr() != resumed.trainLr()
        ? String.format(Locale.ROOT, "--lr %s in place of the run's %s", resumed.trainLr(), run.trainLr())
        : String.format(Locale.ROOT, "the %s schedule now ends at step %d, not %d", resumed.lrSchedule(),
            resumed.trainNumSteps(), run.trainNumSteps());
    return String.format(Locale.ROOT, "resume: the learning rate at step %d is now %.3g, not %.3g (%s)", step, after,
        before, why);
  }

  private static void checkData(ModelConfig config, Dataset data, TrainerOptions options, Cluster cluster) {
    if (cluster != null && options.trainBatchSize() % cluster.config().numWorkers() != 0) {
      throw new IllegalArgumentException("train_batch_size = " + options.trainBatchSize() + " does not split evenly"
          + " over the " + cluster.config().numWorkers() + " workers of TF_CONFIG: the batch is the global one, each"
          + " worker takes an equal share");
    }
    long[] expected = config.sampleShape();
    if (!Arrays.equals(data.exampleShape(), expected)) {
      throw new IllegalArgumentException("the data's examples are " + Arrays.toString(data.exampleShape())
          + " but the model makes " + Arrays.toString(expected) + " (channels-last; see image_size/seq_length"
          + " and channels in config.json)");
    }
    if (data.size() < options.trainBatchSize()) {
      throw new IllegalArgumentException("too few examples for a batch: " + data.size() + " examples, train_batch_size "
          + options.trainBatchSize());
    }
    int classes = config.network().numClasses();
    if (classes > 0) {
      int[] labels = data.labels();
      if (labels == null) {
        throw new IllegalArgumentException("the model is class-conditional (num_classes = " + classes + ") but the data"
            + " has no labels: give an idx file with its labels file beside it, or an image folder with one sub-folder"
            + " per class");
      }
      int max = java.util.Arrays.stream(labels).max().orElse(0);
      if (max >= classes) {
        throw new IllegalArgumentException("the data has class label " + max + " but num_classes = " + classes);
      }
    }
  }

  /** Where progress and notices go (standard error by default). */
  public Trainer log(PrintStream log) {
    this.log = log;
    return this;
  }

  public DiffusionModel model() {
    return model;
  }

  public long startStep() {
    return startStep;
  }

  /**
   * A SHA-256 fingerprint of the weights and their EMA, by name and bits: the workers of a
   * cluster print it at the end, and replicas that stayed identical print the same.
   */
  public String weightsFingerprint() {
    com.google.common.hash.Hasher h = com.google.common.hash.Hashing.sha256().newHasher();
    for (Map<String, FloatArray> weights : List.of(model.weights(), model.emaWeights())) {
      new java.util.TreeMap<>(weights).forEach((name, array) -> {
        h.putString(name, StandardCharsets.UTF_8).putByte((byte) 0);
        for (float v : array.data()) {
          h.putInt(Float.floatToRawIntBits(v));
        }
      });
    }
    return h.hash().toString().substring(0, 16);
  }

  /** Trains from the current step to train_num_steps, saving every save_and_sample_every steps and at the end. */
  public Result train() throws IOException {
    long total = options.trainNumSteps();
    log.println("training " + model.config().network().type() + " (" + model.network().parameters().count()
        + " parameters) on " + data.describe() + " from step " + startStep + " to " + total + ", "
        + model.execution().describe());
    log.println("options that differ from the reference's defaults: " + options.differencesFromDefaults());
    if (!resumeNotice.isEmpty()) {
      log.println(resumeNotice);
    }
    int k = options.gradientAccumulateEvery();
    boolean conditional = model.network().numClasses() > 0;
    Path lastGrid = null;
    float lastLoss = Float.NaN;
    boolean saved = false;
    long started = System.nanoTime();
    long lastLogNanos = started;
    long lastLogStep = startStep;
    ProgressLine progress = log == System.err ? ProgressLine.onStandardError("steps", startStep, total)
        : new ProgressLine(log, false, "steps", startStep, total);
    boolean writes = folder != null;
    int share = cluster == null ? 0 : cluster.config().index();
    int shares = cluster == null ? 1 : cluster.config().numWorkers();
    try (BatchLoader loader = new BatchLoader(data, options.trainBatchSize(), share, shares, options.seed(),
        options.augmentHorizontalFlip() && model.network().spatialRank() == 2, options.loaderThreads(), 2 * k + 2)) {
      if (startStep < total && writes) {
        record.open(startStep);
      }
      loader.start(startStep * k);
      for (long s = startStep; s < total; s++) {
        if (StopRequest.received().isPresent()) {
          TrainingStopped stop = stopAt(s, StopRequest.received().get(), progress);
          saved |= stop.folder() != null;
          throw stop;
        }
        List<FloatArray> micro = new ArrayList<>(k);
        List<long[]> labels = conditional ? new ArrayList<>(k) : null;
        for (int j = 0; j < k; j++) {
          micro.add(loader.next());
          if (conditional) {
            labels.add(Arrays.stream(loader.labels(s * k + j)).asLongStream().toArray());
          }
        }
        boolean saving = writes && ((s + 1) % options.saveAndSampleEvery() == 0 || s + 1 == total);
        // a step that saves also logs: the non-finite counts come with the loss, and no bad step is saved
        boolean logged = (s + 1) % options.logEvery() == 0 || s + 1 == total || saving;
        double lr = schedule.lr(options.trainLr(), s);
        float loss;
        try {
          loss = step.run(micro, labels, options.seed(), s, lr, logged);
        } catch (org.tensorflow.exceptions.TFResourceExhaustedException e) {
          throw new IllegalStateException("out of memory in a training step on batches of " + options.trainBatchSize()
              + ": lower --train-batch-size (--gradient-accumulate-every keeps the effective batch)", e);
        }
        if (logged) {
          Optional<String> verdict = step.nonFiniteCounts().verdict(options.nonfinite(), s, this::lastCheckpoint);
          if (verdict.isPresent()) {
            throw new NonFiniteSteps.Diverged(verdict.get());
          }
        }
        ema.step(model.session(), s);
        if (postHoc != null) {
          postHoc.update(model.session(), s + 1);
          if (writes && ((s + 1) % options.snapshotEvery() == 0 || s + 1 == total)) {
            postHoc.writeSnapshots(model.session(), folder, s + 1);
          }
        }
        if (logged) {
          lastLoss = loss;
        }
        long skipped = step.nonFiniteCounts().skipped();
        if (logged && writes) {
          long now = System.nanoTime();
          record.step(s + 1, loss, lr, step.lastGradNorm(), (s + 1 - lastLogStep) / ((now - lastLogNanos) / 1e9),
              skipped, (now - started) / 1e9);
          lastLogNanos = now;
          lastLogStep = s + 1;
        }
        progress.update(s + 1, String.format(Locale.ROOT, "loss %s  lr %.2e%s%s",
            Float.isFinite(lastLoss) ? String.format(Locale.ROOT, "%.4f", lastLoss) : "-", lr,
            skipped == 0 ? "" : "  skipped " + skipped, score));
        if (saving) {
          lastGrid = save(s + 1, progress);
          saved = true;
        }
      }
      if (cluster != null) {
        // the chief's last save done, every worker may leave
        Handshake.barrier(cluster);
      }
    } catch (IOException | RuntimeException e) {
      closeRecord();
      if (!saved && createdFolder) {
        AtomicFiles.deleteTree(folder);
      }
      if (cluster != null && e instanceof org.tensorflow.exceptions.TensorFlowException) {
        // the first line says why; the rest is gRPC's detail
        String why = e.getMessage() == null ? "" : Cluster.withoutTask(e.getMessage()).lines().map(String::strip)
            .filter(l -> !l.isEmpty()).findFirst().orElse("");
        throw new IllegalStateException("worker " + cluster.config().index() + " lost the other workers"
            + (why.isEmpty() ? "" : " (" + why + ")") + "; start every worker again with --resume to go on from"
            + " the last checkpoint", e);
      }
      throw e;
    }
    closeRecord();
    if (lastGrid == null && writes) {
      log.println("nothing to do: the run is already at step " + startStep + " of " + total);
    }
    return new Result(folder, lastGrid, total, lastLoss);
  }

  /**
   * Ends the run at the boundary before step {@code s} for a signal: the model folder and a
   * checkpoint of step {@code s} are saved (unless this step's save just did, or no step was
   * trained), the sample grid and the FD are left for the resumed run's saves.
   */
  private TrainingStopped stopAt(long s, String signal, ProgressLine progress) throws IOException {
    if (folder == null || s == 0) {
      return new TrainingStopped(s, signal, null);
    }
    if (s > startStep && s % options.saveAndSampleEvery() != 0) {
      progress.note(signal + ": saving the checkpoint of step " + s);
      Files.createDirectories(folder);
      model.save(folder);
      Checkpoints.save(folder, model.session(), s, options);
      record.flush();
    }
    return new TrainingStopped(s, signal, folder);
  }

  /**
   * Updates the model folder, draws a sample grid from the EMA weights, scores the EMA weights when
   * asked to, then checkpoints: the best (when this score is the lowest) before the latest, so that
   * a run resumed from the latest always finds the best it had reached.
   */
  private Path save(long stepsDone, ProgressLine progress) throws IOException {
    Files.createDirectories(folder);
    model.save(folder);
    DiffusionSampler sampler = model.emaSampler();
    FloatArray noise = sampler.initialNoise(options.numSamples(), options.seed());
    int classes = model.network().numClasses();
    // a class-conditional grid cycles through the classes, one per sample
    long[] labels = classes == 0 ? null
        : java.util.stream.LongStream.range(0, options.numSamples()).map(i -> i % classes).toArray();
    FloatArray samples = sampler.sample(noise, options.seed(), labels);
    Path grid = folder.resolve(String.format(Locale.ROOT, "sample-%d.png", stepsDone));
    if (model.network().spatialRank() == 2 && List.of(1, 3, 4).contains(model.network().channels())) {
      BufferedImage picture = ImageGrid.grid(samples, (int) Math.round(Math.sqrt(options.numSamples())),
          ImageGrid.DEFAULT_PADDING);
      ImageGrid.writePng(grid, picture);
      record.samples(stepsDone, picture);
    } else {
      grid = folder.resolve(String.format(Locale.ROOT, "sample-%d.npy", stepsDone));
      io.diffusion4j.io.Npy.write(grid, samples);
    }
    if (fidNetwork != null) {
      double fd = frechetDistance(stepsDone, progress);
      if (options.saveBestAndLatestOnly() && fd < bestFd) {
        bestFd = fd;
        Checkpoints.saveBest(folder, model.session(), stepsDone, options, fd, model::save);
      }
    }
    Checkpoints.save(folder, model.session(), stepsDone, options);
    record.flush();
    return grid;
  }

  /** The FD of num_fid_samples EMA samples against as many training examples, logged under the network's name. */
  private double frechetDistance(long stepsDone, ProgressLine progress) throws IOException {
    int count = options.numFidSamples();
    if (dataStatistics == null) {
      dataStatistics = StatisticsCache.dataStatistics(fidNetwork, data, count,
          StatisticsCache.file(folder, fidNetwork), progress::note);
      dataStatistics.conditionWarning("data examples").ifPresent(w -> progress.note("warning: " + w));
    }
    progress.note("step " + stepsDone + ": sampling " + count + " images for the FD");
    FeatureStatistics samples = FeatureStatistics.of(fidNetwork,
        GeneratedImages.of(model.emaSampler(), model.network().numClasses(), options.seed()), count,
        options.trainBatchSize());
    samples.conditionWarning("samples").ifPresent(w -> progress.note("warning: " + w));
    double fd = FrechetDistance.between(samples, dataStatistics);
    record.fd(stepsDone, fd, fidNetwork.name(), samples.count(), dataStatistics.count());
    score = String.format(Locale.ROOT, "  fd[%s] %.4g", fidNetwork.name(), fd);
    return fd;
  }

  /** The run's latest checkpoint, or null when it has none (or this trainer writes none). */
  private Checkpoints.Info lastCheckpoint() {
    try {
      return folder != null && Checkpoints.exists(folder) ? Checkpoints.read(folder) : null;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void closeRecord() {
    if (record != null) {
      record.close();
    }
  }

  @Override
  public void close() {
    closeRecord();
    model.close();
    if (fidNetwork != null) {
      fidNetwork.close();
    }
  }
}
