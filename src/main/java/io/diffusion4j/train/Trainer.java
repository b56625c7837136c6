package io.diffusion4j.train;

import io.diffusion4j.data.BatchLoader;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.distribute.Cluster;
import io.diffusion4j.distribute.Collectives;
import io.diffusion4j.io.AtomicFiles;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.ProgressLine;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.runtime.StopRequest;
import io.diffusion4j.train.posthoc.PowerFunctionEma;
import io.diffusion4j.train.posthoc.Snapshots;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Ops;

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
 * This class is the loop; each save's sample grid is {@code SampleGrid}'s, calculate_fid's scores
 * and best checkpoint are {@code FidScoring}'s, and the other workers of a multi-worker run are
 * {@code Replicas}. A run is a pure function of its seed: the batches, every random draw and the
 * EMA schedule depend only on (seed, step), so a run stopped and resumed ends bit for bit where an
 * uninterrupted one does. A signal caught by {@link StopRequest} ends the run at the next step
 * boundary with a checkpoint of that step ({@link TrainingStopped}).
 */
public final class Trainer implements AutoCloseable {
  public static final String METRICS = "metrics.jsonl";
  /** The TensorBoard log folder inside the results folder. */
  public static final String LOGS = "logs";

  private final DiffusionModel model;
  /** The other workers' copies of the run, or null when this process trains alone. */
  private final Replicas replicas;
  private final Dataset data;
  private final TrainerOptions options;
  private final Path folder;
  private final boolean createdFolder;
  private final long startStep;
  private final TrainStep step;
  private final Ema ema;
  /** The power-function EMAs of post_hoc_ema, or null. */
  private final PowerFunctionEma postHoc;
  /** calculate_fid's scores, or null. */
  private final FidScoring fid;
  private final LearningRateSchedule schedule;
  private PrintStream log = System.err;
  /** metrics.jsonl and the TensorBoard events; null when this trainer writes nothing (a worker). */
  private final RunRecord record;
  /** What a resume changed in the learning rate, said when training starts; empty when nothing. */
  private String resumeNotice = "";

  /** Opens a worker's copy of the data of the run it joins. */
  @FunctionalInterface
  public interface DataSource {
    Dataset open(ModelConfig config, TrainerOptions options) throws IOException;
  }

  /** What a finished run leaves behind. */
  public record Result(Path folder, Path lastSampleGrid, long steps, float lastLoss) {}

  private Trainer(DiffusionModel model, Cluster cluster, Dataset data, TrainerOptions options, Path folder,
      boolean createdFolder, long startStep, FidScoring fid) {
    this.fid = fid;
    this.model = model;
    this.data = data;
    this.options = options;
    this.folder = folder;
    this.createdFolder = createdFolder;
    this.startStep = startStep;
    this.schedule = options.learningRateSchedule();
    this.record = folder == null ? null : new RunRecord(folder);
    Ops replicaOps = model.ops().withSubScope("replicas");
    Collectives collectives = cluster == null ? null : new Collectives(replicaOps, cluster.config());
    this.step = new TrainStep(model, options.stepOptions(), collectives);
    this.ema = new Ema(model.ops(), model.network().parameters(), model.emaNetwork().orElseThrow().parameters(),
        options.emaDecay(), options.emaSigmaRel(), options.emaUpdateEvery(), step.applied());
    // before the replicas, which replicate every variable the graph has by then
    this.postHoc = options.postHocEma() ? new PowerFunctionEma(model.ops(), model.network().parameters(),
        options.sigmaRels(), model.session(), step.applied()) : null;
    this.replicas = cluster == null ? null : new Replicas(cluster, collectives, replicaOps, model.graph());
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
    DataCheck.check(config, data, options, cluster);
    boolean created = !Files.exists(resultsFolder);
    Replicas.announce(cluster, new Replicas.Run(config, options, 0));
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
    Replicas.Run run = Replicas.joined(cluster);
    Dataset data = dataFor.open(run.config(), run.options());
    DataCheck.check(run.config(), data, run.options(), cluster);
    Trainer t = start(run.config(), cluster, data, run.options(), null, false, run.step());
    t.replicate();
    return t;
  }

  /** Every worker takes the chief's variables (initialised or restored). */
  private void replicate() {
    if (replicas != null) {
      replicas.copyFromChief(model.session());
    }
  }

  /** The model, the FD scoring when asked for, and the trainer over them; nothing leaks on failure. */
  private static Trainer start(ModelConfig config, Cluster cluster, Dataset data, TrainerOptions options, Path folder,
      boolean created, long step) throws IOException {
    // only the chief scores samples
    FidScoring fid = options.calculateFid() && folder != null ? FidScoring.open(config, data, options, folder) : null;
    DiffusionModel model = null;
    try {
      Execution execution = options.execution(System.err::println);
      model = DiffusionModel.create(config, options.seed(), true, execution,
          cluster == null ? execution::session : g -> cluster.session(g, execution));
      return new Trainer(model, cluster, data, options, folder, created, step, fid);
    } catch (RuntimeException e) {
      if (model != null) {
        model.close();
      }
      if (fid != null) {
        fid.close();
      }
      throw e;
    }
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
    DataCheck.check(config, data, options, cluster);
    Replicas.announce(cluster, new Replicas.Run(config, options, info.step()));
    Trainer t = start(config, cluster, data, options, resultsFolder, false, info.step());
    t.resumeNotice = learningRateChange(info.options(), options, info.step());
    try {
      Checkpoints.restore(info, t.model.session());
      t.replicate();
      t.record.truncate(info.step());
      Snapshots.removeAfter(resultsFolder, info.step());
      if (t.fid != null) {
        t.fid.resume();
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
    return Replicas.fingerprint(model);
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
    int share = replicas == null ? 0 : replicas.index();
    int shares = replicas == null ? 1 : replicas.count();
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
        } catch (TFResourceExhaustedException e) {
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
            skipped == 0 ? "" : "  skipped " + skipped, fid == null ? "" : fid.note()));
        if (saving) {
          lastGrid = save(s + 1, progress);
          saved = true;
        }
      }
      if (replicas != null) {
        replicas.barrier();
      }
    } catch (IOException | RuntimeException e) {
      closeRecord();
      if (!saved && createdFolder) {
        AtomicFiles.deleteTree(folder);
      }
      if (replicas != null && e instanceof TensorFlowException lost) {
        throw replicas.lost(lost);
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
   * Updates the model folder, draws the sample grid from the EMA weights, scores them when asked
   * to (saving the best checkpoint), then checkpoints the latest.
   */
  private Path save(long stepsDone, ProgressLine progress) throws IOException {
    Files.createDirectories(folder);
    model.save(folder);
    Path grid = SampleGrid.write(model, options, folder, stepsDone, record);
    if (fid != null) {
      fid.score(model, stepsDone, progress, record);
    }
    Checkpoints.save(folder, model.session(), stepsDone, options);
    record.flush();
    return grid;
  }

  /** The run's latest checkpoint, or null when it has none (or this trainer writes none). */
  private Checkpoints.Info lastCheckpoint() {
    try {
      return folder != null && Checkpoints.exists(folder) ? Checkpoints.read(folder) : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
    if (fid != null) {
      fid.close();
    }
  }
}
