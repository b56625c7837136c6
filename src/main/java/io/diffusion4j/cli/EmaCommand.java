package io.diffusion4j.cli;

import io.diffusion4j.io.AtomicFiles;
import io.diffusion4j.io.OutputSpace;
import io.diffusion4j.io.Safetensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.train.posthoc.PowerFunction;
import io.diffusion4j.train.posthoc.Reconstruction;
import io.diffusion4j.train.posthoc.Snapshots;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ema}: post-hoc EMA, the weights of any sigma_rel from the snapshots of a run trained with --post-hoc-ema. */
@Command(name = "ema", mixinStandardHelpOptions = true,
    header = "Make the EMA weights of any sigma_rel from a run's post-hoc EMA snapshots.",
    description = {"Combines the power-function EMA snapshots that train --post-hoc-ema wrote",
        "into post-hoc-ema/, one tensor at a time, by the least-squares fit of Karras",
        "et al. 2024 to the profile asked for at the last snapshot's step. It writes",
        "ema.safetensors, which sample and fid use; one written by the trainer is kept",
        "first as ema-trainer.safetensors, an earlier reconstruction is replaced. A",
        "resumed run's next save writes the trainer's EMA there again."})
final class EmaCommand implements Callable<Integer> {
  /** Where the trainer's own EMA goes when a reconstruction takes its place. */
  static final String TRAINER_EMA = "ema-trainer.safetensors";

  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "model folder of a run trained with"
      + " --post-hoc-ema")
  Path model;

  @Option(names = "--sigma-rel", required = true, paramLabel = "X",
      description = "the relative width of the EMA wanted, in (0, sqrt(1/12) = 0.2887)")
  double sigmaRel;

  @Option(names = "--out", paramLabel = "FILE", description = "write the weights here instead, leaving the model"
      + " folder as it is")
  Path out;

  @Override
  public Integer call() throws Exception {
    try {
      PowerFunction.check("sigma_rel", sigmaRel);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage().replaceFirst("^sigma_rel = ", "--sigma-rel "));
    }
    if (!Files.isDirectory(model)) {
      throw new IllegalArgumentException("--model " + model + (Files.exists(model) ? " is a file, not a model folder"
          : " does not exist"));
    }
    List<Snapshots.Snapshot> snapshots = Snapshots.list(model);
    if (snapshots.isEmpty()) {
      throw new IllegalArgumentException("--model " + model + " has no post-hoc EMA snapshots (" + Snapshots.FOLDER
          + "/ema-*.safetensors): train it with --post-hoc-ema to make them");
    }
    Path target = out != null ? out : model.resolve(DiffusionModel.EMA_WEIGHTS);
    String kept = "";
    boolean keepTrainers = out == null && Files.isRegularFile(target)
        && !Safetensors.readMetadata(target).containsKey(Reconstruction.SIGMA_REL);
    // the weights take what one snapshot takes (the same tensors), the kept copy what the trainer's EMA does
    OutputSpace.check(out != null ? "--out " + out : "--model " + model, target,
        Files.size(snapshots.get(0).file()) + (keepTrainers ? Files.size(target) : 0));
    if (keepTrainers) {
      // the trainer's EMA cannot be made again from the snapshots: keep it
      Path trainer = model.resolve(TRAINER_EMA);
      AtomicFiles.write(trainer, o -> Files.copy(target, o));
      kept = " (the trainer's EMA it replaced is in " + trainer + ")";
    }
    Reconstruction r = Reconstruction.write(snapshots, sigmaRel, target);
    spec.commandLine().getOut().println(r.describe(target) + kept);
    return 0;
  }
}
