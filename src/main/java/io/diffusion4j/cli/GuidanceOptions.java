package io.diffusion4j.cli;

import io.diffusion4j.diffusion.Guidance;
import picocli.CommandLine.Option;

/** Guidance's settings but its scale, which sample takes as --cond-scale and serving_default as an input. */
final class GuidanceOptions {
  @Option(names = "--rescaled-phi", paramLabel = "P", description = "guided models: how far the guided output is"
      + " rescaled to the conditional one's std, in [0, 1] (default 0.7)")
  Double rescaledPhi;

  @Option(names = "--remove-parallel-component", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
      description = "guided models: drop the guidance update's part parallel to the conditional output (default true)")
  Boolean removeParallelComponent;

  @Option(names = "--keep-parallel-frac", paramLabel = "F", description = "guided models: the fraction of that part"
      + " kept, in [0, 1] (default 0)")
  Double keepParallelFrac;

  /** {@code base} with the options given and {@code condScale} (null: base's), or null when none is given. */
  Guidance over(Guidance base, Double condScale) {
    if (condScale == null && rescaledPhi == null && removeParallelComponent == null && keepParallelFrac == null) {
      return null;
    }
    return new Guidance(condScale != null ? condScale : base.condScale(),
        rescaledPhi != null ? rescaledPhi : base.rescaledPhi(),
        removeParallelComponent != null ? removeParallelComponent : base.removeParallelComponent(),
        keepParallelFrac != null ? keepParallelFrac : base.keepParallelFrac());
  }
}
