package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.SamplingDefaults;
import io.diffusion4j.diffusion.SamplingDefaults.Procedure;

/**
 * Whether a run clamps D(x; sigma) to the data's range [-1, 1] when it is not told (the
 * reference's clip_denoised, clamp and clip_sample_denoised): as the reference's own sampler for
 * the model's family and the solver, where the reference has that sampler, and as the family
 * clamps elsewhere (the continuous-time families as their clip_sample_denoised says, the others
 * clamped). The README's table under "Samplers" says the same, row for row.
 */
public final class ClipDenoised {
  private ClipDenoised() {}

  public static boolean byDefault(Denoiser d, Solver<?, ?> solver) {
    SamplingDefaults defaults = d.samplingDefaults();
    Procedure p = Solvers.procedureOf(solver);
    return defaults.clipDenoised() && (p == null || !defaults.unclamped().contains(p));
  }
}
