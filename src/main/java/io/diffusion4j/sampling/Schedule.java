package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import java.util.Locale;

/** The noise levels a run steps through: descending from the model's sigma_max, then 0. */
public enum Schedule {
  /** The model's own: the reference's DDIM timesteps for Gaussian diffusion, Eq. 5 of Karras et al. 2022 for EDM. */
  OWN,
  /** Karras et al. 2022, Eq. 5 with rho = 7 between the model's sigma_min and sigma_max (k-diffusion's get_sigmas_karras). */
  KARRAS,
  /** Evenly spaced in log sigma (k-diffusion's get_sigmas_exponential). */
  EXPONENTIAL;

  static final double RHO = 7;

  public double[] sigmas(Denoiser d, int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("steps = " + steps + " must be at least 1");
    }
    if (this == OWN) {
      return d.ownSigmas(steps);
    }
    double[] s = new double[steps + 1];
    double lo = d.sigmaMin();
    double hi = d.sigmaMax();
    for (int i = 0; i < steps; i++) {
      double ramp = steps == 1 ? 0 : (double) i / (steps - 1);
      s[i] = this == KARRAS
          ? Math.pow(Math.pow(hi, 1 / RHO) + ramp * (Math.pow(lo, 1 / RHO) - Math.pow(hi, 1 / RHO)), RHO)
          : Math.exp(Math.log(hi) + ramp * (Math.log(lo) - Math.log(hi)));
    }
    return s;
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Schedule parse(String name) {
    for (Schedule s : values()) {
      if (s.cliName().equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException("schedule " + name + " is not allowed: expected own, karras or exponential");
  }
}
