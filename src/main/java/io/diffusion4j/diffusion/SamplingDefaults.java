package io.diffusion4j.diffusion;

import java.util.Set;

/**
 * How a model samples when a run says nothing, as its config implies: the reference's own
 * procedure for it (or the solver the config names), the step count, DDIM's eta, EDM's churn,
 * whether D's estimate of x0 is clamped to [-1, 1], CFG++. The sampling package decides a run's
 * settings from it; this package, below sampling, names no solver.
 *
 * @param procedure the reference's sampling procedure for this config
 * @param sampler the catalogue's solver the config names (diffusion4j's own option), or null for
 *     {@code procedure}'s
 * @param steps sampling_timesteps or num_sample_steps
 * @param ddimEta ddim_sampling_eta, 0 where the config has none
 * @param churn EDM's churn, for the solvers that take it; null where the config has none
 * @param clipDenoised whether the family clamps x0 (the continuous-time ones: clip_sample_denoised)
 * @param unclamped the reference's procedures for this family that leave x0 unclamped all the same
 * @param cfgPlusPlus whether DDIM-type steps re-noise with the unconditional noise estimate (CFG++,
 *     Chung et al. 2024)
 */
public record SamplingDefaults(Procedure procedure, String sampler, int steps, double ddimEta, Churn churn,
    boolean clipDenoised, Set<Procedure> unclamped, boolean cfgPlusPlus) {

  /** The reference's sampling procedures, and the plain ODE step for a denoiser of no family of it. */
  public enum Procedure {
    /** GaussianDiffusion.p_sample_loop: ancestral through every timestep (Ho et al. 2020, Algorithm 2). */
    DDPM,
    /** GaussianDiffusion.ddim_sample (Song et al. 2021, Eq. 12). */
    DDIM,
    /** ElucidatedDiffusion.sample: Heun's method with churn (Karras et al. 2022, Algorithm 2). */
    HEUN,
    /** ElucidatedDiffusion.sample_using_dpmpp: DPM-Solver++(2M) (Lu et al. 2022). */
    DPMPP_2M,
    /** Euler steps of the probability-flow ODE (Karras et al. 2022, Algorithm 1). */
    EULER
  }

  /** Karras et al. 2022, Algorithm 2's S_churn, S_tmin, S_tmax and S_noise. */
  public record Churn(double sChurn, double sTmin, double sTmax, double sNoise) {}

  /** A denoiser of no family: Euler's steps, 32 of them, x0 clamped. */
  public static final SamplingDefaults NONE = new SamplingDefaults(Procedure.EULER, null, 32, 0, null, true, Set.of(),
      false);

  public SamplingDefaults {
    unclamped = Set.copyOf(unclamped);
  }
}
