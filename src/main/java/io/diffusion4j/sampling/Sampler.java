package io.diffusion4j.sampling;

import java.util.Locale;

/** The samplers, by the names the command line uses. */
public enum Sampler {
  /** Gaussian diffusion: ancestral sampling over every timestep (Ho et al. 2020). */
  DDPM,
  /** Gaussian diffusion: DDIM (Song et al. 2021), deterministic at eta 0. */
  DDIM,
  /** EDM: Heun's second-order method with churn (Karras et al. 2022, Algorithm 2). */
  HEUN,
  /** EDM: DPM-Solver++(2M) (Lu et al. 2022). */
  DPMPP,
  /** EDM: Euler's method with churn (Algorithm 2 without the correction). */
  EULER;

  public static Sampler parse(String name) {
    for (Sampler s : values()) {
      if (s.cliName().equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException("sampler \"" + name + "\" is not allowed: expected ddpm, ddim, heun, dpmpp or euler");
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
