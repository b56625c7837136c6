package io.diffusion4j.sampling.solvers;

import io.diffusion4j.diffusion.Denoiser;

/**
 * DDPM (Ho et al. 2020, Algorithm 2): ancestral sampling through every timestep of a Gaussian
 * diffusion, whose posterior step is DDIM's at eta 1 with x0 clamped, as in the reference. A
 * model of continuous noise levels takes the steps given.
 */
public final class Ddpm extends Ddim {
  public Ddpm() {
    super("ddpm", "DDPM (Ho et al. 2020): ancestral through every timestep");
  }

  @Override
  public double defaultEta(Denoiser d) {
    return 1;
  }

  @Override
  public int steps(Denoiser d, int requested) {
    return d.timesteps() > 0 ? d.timesteps() : requested;
  }
}
