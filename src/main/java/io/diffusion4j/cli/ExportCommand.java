package io.diffusion4j.cli;

import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.export.SavedModelExport;
import io.diffusion4j.io.OutputSpace;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.sampling.Schedule;
import io.diffusion4j.sampling.Solvers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code export}: a model folder as a SavedModel for TensorFlow Serving. */
// no standard help mixin: its --version would take the place of the version folder's
@Command(name = "export",
    header = "Export a model folder as a SavedModel that TensorFlow Serving serves as it is.",
    description = {"It writes OUT/VERSION/ with tag serve and the signatures",
        "  denoise (x, time[, x_self_cond][, class_labels] -> out; a Unet takes any",
        "    size its downsampling divides) and, when the config has a diffusion,",
        "  serving_default (seed, num, steps[, class_labels][, cond_scale] -> images).",
        "The EMA weights are used when the folder has them."})
final class ExportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "model folder")
  Path model;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "SavedModel root, e.g. saved_models/NAME")
  Path out;

  @Option(names = "--version", paramLabel = "V", description = "version folder (default: one more than the highest)")
  Long version;

  @Option(names = "--sampler", paramLabel = "NAME", completionCandidates = SolverNames.class,
      description = "the solver of serving_default, any of: ${COMPLETION-CANDIDATES} (default: the config's)")
  String sampler;

  @Option(names = "--steps", paramLabel = "K",
      description = "the largest step count serving_default takes (default 256, or the config's steps when larger)")
  Integer steps;

  @Option(names = "--schedule", paramLabel = "own|karras|exponential", description = "its noise levels (default own)")
  String schedule;

  @Option(names = "--eta", paramLabel = "E", description = "its eta (default: as sample's)")
  Double eta;

  @Option(names = "--s-noise", paramLabel = "S", description = "its s_noise (default: as sample's)")
  Double sNoise;

  @Mixin
  GuidanceOptions guidance = new GuidanceOptions();

  @Mixin
  ClipDenoisedOption clipDenoised = new ClipDenoisedOption();

  @Override
  public Integer call() throws Exception {
    if (steps != null && steps < 1) {
      throw new ParameterException(spec.commandLine(), "--steps " + steps + " must be at least 1");
    }
    SavedModelExport.Serving serving;
    try {
      serving = new SavedModelExport.Serving(sampler == null ? null : Solvers.named(sampler), steps,
          schedule == null ? null : Schedule.parse(schedule), eta, sNoise, clipDenoised.value,
          guidance.over(Guidance.DEFAULT, null));
    } catch (IllegalArgumentException e) {
      String flagged = SamplingOptions.asFlag(e.getMessage());
      throw new ParameterException(spec.commandLine(), flagged != null ? flagged : e.getMessage());
    }
    checkSpace();
    Path written = SavedModelExport.export(model, out, version, serving);
    spec.commandLine().getOut().println("wrote " + written);
    return 0;
  }

  /** The SavedModel's variables take at least what the weights it exports do: refused at once when even they cannot fit. */
  private void checkSpace() throws IOException {
    Path ema = model.resolve(DiffusionModel.EMA_WEIGHTS);
    Path weights = Files.isRegularFile(ema) ? ema : model.resolve(DiffusionModel.MODEL_WEIGHTS);
    if (Files.isRegularFile(weights)) {
      OutputSpace.check("--out " + out, out.resolve("saved_model.pb"), Files.size(weights));
    }
  }
}
