package io.diffusion4j.cli;

import io.diffusion4j.sampling.Settings;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --clip-denoised}, declared once for sample, fid and export. */
final class ClipDenoisedOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  /** The value given, or null for the model's default ({@link io.diffusion4j.sampling.ClipDenoised}). */
  Boolean value;

  @Option(names = "--clip-denoised", paramLabel = "true|false", description = "clamp the estimate of x0 to [-1, 1] at"
      + " every step (the reference's clip_denoised, clamp, clip_sample_denoised; default: as the reference's own"
      + " sampler for the model's family and solver, else true: the README's table under Samplers)")
  void set(String given) {
    value = switch (given) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ParameterException(spec.commandLine(), "--clip-denoised " + given
          + " is not allowed: expected true or false");
    };
  }

  /** {@code settings} with the value given, unchanged without one. */
  Settings over(Settings settings) {
    return settings.withClipDenoised(value);
  }
}
