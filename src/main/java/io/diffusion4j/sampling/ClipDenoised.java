package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.ContinuousTimeDiffusion;
import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.ElucidatedDiffusion;
import io.diffusion4j.sampling.solvers.DpmPp2M;

/**
 * Whether a run clamps D(x; sigma) to the data's range [-1, 1] when it is not told (the
 * reference's clip_denoised, clamp and clip_sample_denoised): as the reference's own sampler for
 * the model's family and the solver, where the reference has that sampler, and clamped elsewhere.
 * The README's table under "Samplers" says the same, row for row.
 */
public final class ClipDenoised {
  private ClipDenoised() {}

  public static boolean byDefault(Denoiser d, Solver<?, ?> solver) {
    // the continuous-time families read it from the model: clip_sample_denoised (default true)
    if (d instanceof ContinuousTimeDiffusion c) {
      return c.config().clipSampleDenoised();
    }
    // ElucidatedDiffusion.sample_using_dpmpp calls preconditioned_network_forward with clamp False;
    // its sample (Heun) clamps, as GaussianDiffusion's p_sample_loop and ddim_sample do
    return !(d instanceof ElucidatedDiffusion && solver instanceof DpmPp2M);
  }
}
