package io.diffusion4j.sampling.solvers;

import io.diffusion4j.sampling.Settings;

/**
 * Algorithm 2's churn before step i (Karras et al. 2022): the level raised to sigma_hat =
 * (1 + gamma_i) sigma_i, and the std of the noise that takes the sample there,
 * S_noise sqrt(sigma_hat^2 - sigma_i^2).
 */
record Churn(double sigmaHat, double noiseStd) {
  static Churn before(double[] sigmas, int i, Settings settings) {
    double hat = sigmas[i] * (1 + settings.churn().gamma(sigmas[i], sigmas.length - 1));
    return new Churn(hat, settings.sNoise() * Math.sqrt(hat * hat - sigmas[i] * sigmas[i]));
  }
}
