package io.diffusion4j.cli;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.sampling.Schedule;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Solvers;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * How a command samples: the options sample and fid share, declared once. export declares its
 * own, since its --steps is the largest step count serving_default takes, not a run's count.
 */
final class SamplingOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(names = "--sampler", paramLabel = "NAME", completionCandidates = SolverNames.class,
      description = "the solver, any of: ${COMPLETION-CANDIDATES} (default: the config's: ddim when"
          + " sampling_timesteps < timesteps, else ddpm; heun for ElucidatedDiffusion)")
  String sampler;

  @Option(names = "--steps", paramLabel = "K",
      description = "sampling steps (default: sampling_timesteps or num_sample_steps; ddpm takes every timestep)")
  Integer steps;

  @Option(names = "--schedule", paramLabel = "own|karras|exponential",
      description = "the noise levels: the model's own (default), Karras et al.'s rho = 7, or log-linear")
  String schedule;

  @Option(names = "--eta", paramLabel = "E", description = "how much noise a stochastic solver adds: 0 is deterministic"
      + " (default: the config's ddim_sampling_eta for ddim, 1 for the ancestral and SDE solvers)")
  Double eta;

  @Option(names = "--s-noise", paramLabel = "S",
      description = "scale of the noise stochastic solvers add (default 1; EDM's S_noise for its churn)")
  Double sNoise;

  Solver<?, ?> solver() {
    return parse(() -> sampler == null ? null : Solvers.named(sampler));
  }

  Schedule scheduleOrNull() {
    return parse(() -> schedule == null ? null : Schedule.parse(schedule));
  }

  /** The options checked for what needs no model: counts and ranges. */
  void check() {
    if (steps != null && steps < 1) {
      throw new ParameterException(spec.commandLine(), "--steps " + steps + " must be at least 1");
    }
    if (eta != null && !(eta >= 0)) {
      throw new ParameterException(spec.commandLine(), "--eta " + eta + " must be >= 0");
    }
    if (sNoise != null && !(sNoise >= 0)) {
      throw new ParameterException(spec.commandLine(), "--s-noise " + sNoise + " must be >= 0");
    }
    solver();
    scheduleOrNull();
  }

  /** The run's settings for {@code d}: the model's defaults where an option is not given. */
  Settings settings(Denoiser d, long seed) {
    return parse(() -> Settings.of(d, solver(), steps, scheduleOrNull(), eta, sNoise, seed));
  }

  private interface Parse<T> {
    T get();
  }

  /** A value the options describe; what they get wrong is said under the option's name. */
  private <T> T parse(Parse<T> parse) {
    try {
      return parse.get();
    } catch (IllegalArgumentException e) {
      // the catalogue and the settings name their values: "sampler x ..." is "--sampler x ...", "eta = 2.0 ..." "--eta 2.0 ..."
      String m = e.getMessage().replaceFirst("^([a-z_]+) = ", "$1 ");
      throw new ParameterException(spec.commandLine(), "--" + m.replaceFirst("^s_noise", "s-noise"));
    }
  }
}
