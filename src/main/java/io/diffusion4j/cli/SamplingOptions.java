package io.diffusion4j.cli;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.sampling.Schedule;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Solvers;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Mixin;
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

  @Option(names = "--cond-scale", paramLabel = "S", description = "guided models: classifier-free guidance's scale"
      + " (default 6, the reference's; 1 is plain conditional sampling, one evaluation per step)")
  Double condScale;

  @Mixin
  GuidanceOptions guidance = new GuidanceOptions();

  @Mixin
  ClipDenoisedOption clipDenoised = new ClipDenoisedOption();

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
    return settings(d, seed, solver());
  }

  /** As above with {@code solver} (null: the model's default). */
  Settings settings(Denoiser d, long seed, Solver<?, ?> solver) {
    return parse(() -> {
      Settings s = clipDenoised.over(Settings.of(d, solver, steps, scheduleOrNull(), eta, sNoise, seed));
      Guidance g = guidance.over(s.guidance() != null ? s.guidance() : Guidance.DEFAULT.withCondScale(1), condScale);
      return g == null ? s : s.withGuidance(d, g);
    });
  }

  private interface Parse<T> {
    T get();
  }

  /** The options whose names start the messages of the values they give. */
  private static final Pattern OPTION = Pattern.compile(
      "^(sampler|steps|schedule|eta|s_noise|cond_scale|rescaled_phi|keep_parallel_frac)( = | )");

  /**
   * A message that names an option's value said with its flag ("eta = 2.0 ..." is "--eta 2.0 ...",
   * "cond_scale = -1.0 ..." "--cond-scale -1.0 ..."), or null when it names none.
   */
  static String asFlag(String message) {
    Matcher m = OPTION.matcher(message);
    return m.find() ? "--" + m.group(1).replace('_', '-') + " " + message.substring(m.end()) : null;
  }

  /** A value the options describe; what they get wrong is said under the option's name. */
  private <T> T parse(Parse<T> parse) {
    try {
      return parse.get();
    } catch (IllegalArgumentException e) {
      String flagged = asFlag(e.getMessage());
      if (flagged == null) {
        throw e;
      }
      throw new ParameterException(spec.commandLine(), flagged);
    }
  }
}
