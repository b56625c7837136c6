package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * A solver of Karras et al. 2022, Algorithm 2's family (k-diffusion's sample_euler, sample_heun,
 * sample_dpm_2): each step first raises the level from sigma_i to sigma_hat = (1 + gamma_i) sigma_i
 * with S_noise-scaled fresh noise (EDM's churn; none unless the config asks), then steps from
 * sigma_hat to sigma_{i+1}. Subclasses write only that second part.
 *
 * @param <C> the per-step coefficients; they hold the churn as their first two components
 */
abstract class Churning<C extends Record, S extends Record> extends Solver<C, S> {

  Churning(String name, String description, int order, int evaluationsPerStep, Class<C> coefficients,
      Class<S> state) {
    super(name, description, order, false, evaluationsPerStep, coefficients, state);
  }

  @Override
  public final boolean churns() {
    return true;
  }

  /** The coefficients of a step from {@code sigmaHat} down to {@code next}, with the churn's noise std. */
  abstract C coefficients(double sigmaHat, double churnStd, double next);

  @Override
  public final List<C> plan(double[] sigmas, Settings settings) {
    List<C> plan = new ArrayList<>();
    for (int i = 0; i < sigmas.length - 1; i++) {
      double hat = sigmas[i] * (1 + settings.churn().gamma(sigmas[i], sigmas.length - 1));
      double std = settings.sNoise() * Math.sqrt(hat * hat - sigmas[i] * sigmas[i]);
      plan.add(coefficients(hat, std, sigmas[i + 1]));
    }
    return plan;
  }

  /** x raised to sigma_hat. */
  static Value churned(Step step, Value x, Value churnStd) {
    return x.plus(step.noise().times(churnStd));
  }
}
