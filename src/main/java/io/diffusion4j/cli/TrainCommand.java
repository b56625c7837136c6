package io.diffusion4j.cli;

import io.diffusion4j.data.Dataset;
import io.diffusion4j.distribute.Cluster;
import io.diffusion4j.distribute.TfConfig;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.JsonDifference;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.runtime.StopRequest;
import io.diffusion4j.train.Checkpoints;
import io.diffusion4j.train.Trainer;
import io.diffusion4j.train.TrainerOptions;
import io.diffusion4j.train.TrainingStopped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code train}: trains a model into a results folder that is also its model folder. */
@Command(name = "train", mixinStandardHelpOptions = true,
    header = "Train a diffusion model on your data, or with no arguments on the embedded default.",
    description = {"The embedded default is a small Unet on 6,000 Fashion-MNIST images shipped in",
        "the jar; it trains in under ten minutes on 2 cores. Trainer options take the",
        "Python reference's names in kebab case. Watch a run with:",
        "  tensorboard --logdir results/",
        "On the embedded dataset (no --data), even with --config, the options start",
        "from the embedded default's recipe, not the reference's defaults (a cosine",
        "decay with warm-up, a power-function EMA, post-hoc EMA snapshots, no flips):",
        "every run starts with one line listing the options that differ from the",
        "reference's defaults. A run that diverges goes on from its last checkpoint",
        "with --resume and a lower --lr (see --nonfinite).",
        "SIGTERM or Ctrl-C stops a run at the end of its step: it saves a checkpoint of",
        "that step and says how to go on (--resume); a second one stops it at once.",
        "With TF_CONFIG set, train runs as one worker of a TensorFlow cluster: start",
        "every worker with the same command; worker 0 writes the results, --batch-size",
        "is the global batch. TensorFlow's gRPC runtime has no authentication: anyone",
        "who reaches a worker's port can run any graph there, so run clusters on",
        "trusted networks only."})
final class TrainCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE",
      description = "config.json with \"model\" and \"diffusion\" (without --data it trains on the embedded dataset)")
  Path config;

  @Option(names = "--out", paramLabel = "DIR", description = "results and model folder (default: results/fashion-mnist"
      + " for the embedded default, else results/<data name>)")
  Path out;

  @Option(names = "--resume", description = "continue the run in --out from its latest checkpoint (up to --steps);"
      + " the options it started with may be given again, and --steps and --lr may change: a larger --steps stretches"
      + " a schedule that depends on it (cosine), and the resume says the learning rate before and after")
  boolean resume;

  /** The Trainer's options, one per option of TrainerOptions: their names, types and help come from there. */
  static void declareTrainerOptions(CommandSpec spec) {
    TrainerOptions defaults = TrainerOptions.builder().build();
    for (ConfigRecords.Declared d : ConfigRecords.options(TrainerOptions.class)) {
      List<String> names = new ArrayList<>(d.aliases());
      names.add(d.cliName());
      Object dflt = d.get(defaults);
      OptionSpec.Builder o = OptionSpec.builder(names.toArray(String[]::new))
          .description(d.doc() + (dflt == null || Boolean.FALSE.equals(dflt) ? "" : " (default: "
              + (dflt instanceof List<?> l ? l.stream().map(Object::toString).collect(Collectors.joining(","))
                  : ConfigRecords.json(dflt).getAsString())
              + ")"));
      Class<?> t = d.type();
      if (t.isEnum()) {
        o.type(t).paramLabel(ConfigRecords.choices(t).replaceAll(", | or ", "|")).converters(name -> {
          try {
            return ConfigRecords.choice(t, d.key(), name);
          } catch (IllegalArgumentException e) {
            throw new TypeConversionException("\"" + name + "\" is not allowed: expected " + ConfigRecords.choices(t));
          }
        });
      } else if (t == boolean.class || t == Boolean.class) {
        o.type(Boolean.class).arity("0..1").fallbackValue("true").paramLabel("true|false");
      } else if (t == List.class) {
        o.type(double[].class).splitRegex(",").arity("1").paramLabel("X,X");
      } else {
        o.type(t == int.class ? Integer.class : t == long.class ? Long.class : t == double.class ? Double.class : t)
            .paramLabel(t == String.class ? "TEXT" : t == double.class ? "X" : "N");
      }
      spec.addOption(o.build());
    }
  }

  /** The trainer options given on the command line, applied to {@code b}; paths made absolute so that --resume finds them. */
  private TrainerOptions.Builder apply(TrainerOptions.Builder b) {
    ParseResult given = spec.commandLine().getParseResult();
    for (ConfigRecords.Declared d : ConfigRecords.options(TrainerOptions.class)) {
      if (!given.hasMatchedOption(d.cliName())) {
        continue;
      }
      Object v = given.matchedOptionValue(d.cliName(), null);
      if (v instanceof double[] list) {
        v = Arrays.stream(list).boxed().toList();
      }
      if (d.key().equals("folder") || d.key().equals("fid_network")) {
        v = Path.of((String) v).toAbsolutePath().normalize().toString();
      }
      d.set(b, v);
    }
    return b;
  }

  /** --data as given, or null. */
  private Path data() {
    ParseResult given = spec.commandLine().getParseResult();
    return given.hasMatchedOption("--data") ? Path.of((String) given.matchedOptionValue("--data", null)) : null;
  }

  private String convertImageTo() {
    return spec.commandLine().getParseResult().matchedOptionValue("--convert-image-to", null);
  }

  @Override
  public Integer call() throws Exception {
    Optional<TfConfig> tfConfig = TfConfig.fromEnvironment();
    if (tfConfig.isEmpty()) {
      if (Main.ownsProcess) {
        StopRequest.catchTermAndInt();
      }
      try {
        return train(null);
      } catch (TrainingStopped e) {
        spec.commandLine().getErr().println("diffusion4j: " + e.getMessage() + (e.folder() == null ? ""
            : "; go on with: tools/diffusion4j train --out " + shellWord(e.folder().toString()) + " --resume"));
        return StopRequest.exitStatus();
      }
    }
    try (Cluster cluster = Cluster.join(tfConfig.get(), System.err)) {
      return cluster.isChief() ? train(cluster) : follow(cluster);
    }
  }

  /** {@code word} as a shell reads it back: quoted when it holds anything but letters, digits and {@code _./-}. */
  static String shellWord(String word) {
    return word.matches("[A-Za-z0-9_./-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
  }

  /** A worker other than the chief: the run is the chief's; this worker's copy of the data is --data, or the chief's path. */
  private int follow(Cluster cluster) throws Exception {
    try (Trainer trainer = Trainer.follow(cluster, (modelConfig, options) -> dataset(
        data() != null ? data() : options.folder() != null ? Path.of(options.folder()) : null, modelConfig,
        options.convertImageTo()))) {
      trainer.train();
      done(trainer, cluster);
      return 0;
    }
  }

  /** The data at {@code data}, or the embedded dataset when null. */
  private static Dataset dataset(Path data, ModelConfig modelConfig, String convertImageTo) throws IOException {
    return data == null ? EmbeddedDefault.dataset() : DataArgument.open(data, modelConfig, convertImageTo);
  }

  /** Each worker's last line: replicas that stayed equal print the same fingerprint. */
  private void done(Trainer trainer, Cluster cluster) {
    spec.commandLine().getOut().println("worker " + cluster.config().index() + " done: weights "
        + trainer.weightsFingerprint());
  }

  private int train(Cluster cluster) throws Exception {
    Path data = data();
    boolean embedded = data == null;
    Path folder = out != null ? out : embedded && config == null ? EmbeddedDefault.OUT
        : Path.of("results", (embedded ? config : data).getFileName().toString().replaceFirst("\\.[^.]*$", ""));
    if (resume) {
      return resume(folder, cluster);
    }
    ModelConfig modelConfig = config != null ? ModelConfig.read(config) : EmbeddedDefault.config();
    Dataset dataset = dataset(data, modelConfig, convertImageTo());
    TrainerOptions options = build(embedded ? EmbeddedDefault.options() : TrainerOptions.builder()
        .augmentHorizontalFlip(modelConfig.network().spatialRank() == 2));
    try (Trainer trainer = Trainer.create(modelConfig, dataset, options, folder, cluster)) {
      return report(trainer.train(), trainer, cluster);
    }
  }

  /**
   * Continues the run in {@code folder}. The command that started it may be given again: an
   * option whose value equals the run's is accepted, one that differs is refused (only --steps
   * may change, and --loader-threads, which does not change the results).
   */
  private int resume(Path folder, Cluster cluster) throws Exception {
    if (!Checkpoints.exists(folder)) {
      throw new IllegalArgumentException("--resume: " + folder + " holds no training run to continue");
    }
    Checkpoints.Info info = Checkpoints.read(folder);
    TrainerOptions stored = info.options();
    TrainerOptions given = build(TrainerOptions.builder().from(stored));
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
    try {
      // before the data is opened: a conflict is said at once
      stored.checkResume(given, info.directory());
    } catch (IllegalArgumentException e) {
      throw underOptionNames(e);
    }
    Path storedConfig = folder.resolve(DiffusionModel.CONFIG);
    ModelConfig modelConfig = ModelConfig.read(storedConfig);
    if (config != null) {
      String difference = JsonDifference.first(modelConfig.toJson(), ModelConfig.read(config).toJson());
      if (difference != null) {
        throw new ParameterException(spec.commandLine(), "--resume: --config " + config + " differs from the run's "
            + storedConfig + " at " + difference + ": leave --config out or give the same config");
      }
    }
    Dataset dataset = dataset(given.folder() == null ? null : Path.of(given.folder()), modelConfig,
        given.convertImageTo());
    try (Trainer trainer = Trainer.resume(folder, dataset, given, cluster)) {
      return report(trainer.train(), trainer, cluster);
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
      throw underOptionNames(e);
    }
  }

  /** The options check themselves under the reference's names: train_lr = -1.0 ... is --train-lr -1.0 ... */
  private ParameterException underOptionNames(IllegalArgumentException e) {
    Matcher m = Pattern.compile("^([a-z0-9_]+) = (.*)$", Pattern.DOTALL)
        .matcher(e.getMessage());
    return new ParameterException(spec.commandLine(), m.matches()
        ? "--" + m.group(1).replace('_', '-') + " " + m.group(2) : e.getMessage());
  }

  private int report(Trainer.Result result, Trainer trainer, Cluster cluster) {
    var out = spec.commandLine().getOut();
    if (cluster != null) {
      done(trainer, cluster);
    }
    out.println("model folder: " + result.folder().toAbsolutePath());
    if (result.lastSampleGrid() != null) {
      out.println("samples:      " + result.lastSampleGrid().toAbsolutePath());
    }
    return 0;
  }
}
