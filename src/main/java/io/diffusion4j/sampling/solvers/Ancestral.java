package io.diffusion4j.sampling.solvers;

/**
 * An ancestral step's split of sigma_next (k-diffusion's get_ancestral_step): step down to
 * sigma_down, then add sigma_up of fresh noise, sigma_down^2 + sigma_up^2 = sigma_next^2;
 * eta 0 adds none, eta 1 the most a posterior step would.
 */
record Ancestral(double down, double up) {
  static Ancestral of(double from, double to, double eta) {
    if (eta == 0) {
      return new Ancestral(to, 0);
    }
    double up = Math.min(to, eta * Math.sqrt(to * to * (from * from - to * to) / (from * from)));
    return new Ancestral(Math.sqrt(to * to - up * up), up);
  }
}
