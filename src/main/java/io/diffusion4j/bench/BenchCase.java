package io.diffusion4j.bench;

import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.diffusion.SamplingDefaults.Procedure;
import io.diffusion4j.models.KarrasUnetConfig;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Solvers;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One thing to time: a model, what to run of it, at which batch size.
 *
 * @param sampler and {@code steps}: for {@link Kind#SAMPLE} only (null / 0 otherwise)
 */
public record BenchCase(String name, ModelConfig config, Kind kind, int batch, Solver<?, ?> sampler, int steps) {

  public enum Kind {
    /** One training step: loss, gradients, clipping, Adam and the EMA update. */
    TRAIN,
    /** One network evaluation. */
    EVAL,
    /** A whole sampling run. */
    SAMPLE,
    /** One network evaluation and its backward pass to every weight (no optimiser). */
    FORWARD_BACKWARD;

    public String jsonName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final ModelConfig UNET2D = new ModelConfig(
      UnetConfig.builder(32).dimMults(List.of(1, 2, 4)).channels(3).build(), GaussianDiffusionConfig.builder(32, 32).build());
  private static final ModelConfig UNET1D = new ModelConfig(
      UnetConfig.builder1d(32).dimMults(List.of(1, 2, 4)).channels(2).build(), GaussianDiffusionConfig.builder1d(128).build());
  private static final ModelConfig EDM = new ModelConfig(
      UnetConfig.builder(32).dimMults(List.of(1, 2, 4)).learnedSinusoidalCond(true).build(),
      ElucidatedDiffusionConfig.builder(32, 32).build());
  private static final ModelConfig KARRAS = new ModelConfig(
      KarrasUnetConfig.builder(32).dim(64).dimMax(256).channels(3).numDownsamples(2).numBlocksPerStage(List.of(2))
          .attnRes(List.of(8)).build(), null);

  /**
   * The cases of the reference's benchmark, with the same architectures and batch sizes, so that
   * the reference can be timed beside them on the same machine (the README says how).
   */
  public static final List<BenchCase> BUILT_IN = List.of(
      new BenchCase("unet2d_train", UNET2D, Kind.TRAIN, 16, null, 0),
      new BenchCase("unet2d_eval", UNET2D, Kind.EVAL, 16, null, 0),
      new BenchCase("unet2d_ddim50", UNET2D, Kind.SAMPLE, 16, Solvers.of(Procedure.DDIM), 50),
      new BenchCase("unet1d_train", UNET1D, Kind.TRAIN, 32, null, 0),
      new BenchCase("edm_train", EDM, Kind.TRAIN, 16, null, 0),
      new BenchCase("edm_heun32", EDM, Kind.SAMPLE, 16, Solvers.of(Procedure.HEUN), 32),
      new BenchCase("karras_fwd_bwd", KARRAS, Kind.FORWARD_BACKWARD, 16, null, 0));

  /** The built-in case named {@code name}. */
  public static BenchCase named(String name) {
    return BUILT_IN.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(() ->
        new IllegalArgumentException("no bench case \"" + name + "\": expected one of "
            + BUILT_IN.stream().map(BenchCase::name).collect(Collectors.joining(", "))));
  }

  /** The cases of a user's config: a training step, an evaluation, and a sampling run when it has a diffusion. */
  public static List<BenchCase> forConfig(String name, ModelConfig config, int batch, int steps) {
    if (config.diffusion() == null) {
      return List.of(new BenchCase(name + "_eval", config, Kind.EVAL, batch, null, 0),
          new BenchCase(name + "_fwd_bwd", config, Kind.FORWARD_BACKWARD, batch, null, 0));
    }
    return List.of(new BenchCase(name + "_train", config, Kind.TRAIN, batch, null, 0),
        new BenchCase(name + "_eval", config, Kind.EVAL, batch, null, 0),
        new BenchCase(name + "_sample", config, Kind.SAMPLE, batch, null, steps));
  }

  /** This case cut down for a smoke run: at most {@code maxBatch} examples and {@code maxSteps} sampling steps. */
  public BenchCase reduced(int maxBatch, int maxSteps) {
    return new BenchCase(name, config, kind, Math.min(batch, maxBatch), sampler,
        kind == Kind.SAMPLE ? Math.min(steps, maxSteps) : steps);
  }
}
