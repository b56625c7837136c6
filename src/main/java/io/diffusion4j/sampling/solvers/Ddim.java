package io.diffusion4j.sampling.solvers;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * DDIM (Song et al. 2021, Eq. 12) in the sigma view: from x0 = D(x; sigma) and the noise it
 * implies, step to sigma_down and add sigma_up of fresh noise, where sigma_up is eta times
 * DDPM's posterior standard deviation. eta 0 is deterministic; eta 1 is DDPM's ancestral step.
 */
public final class Ddim extends Solver<Ddim.Coefficients, Ddim.State> {

  public record Coefficients(Value sigma, Value sigmaDown, Value noiseStd) {}

  public record State(Value x) {}

  public Ddim() {
    super("ddim", "DDIM (Song et al. 2021), deterministic at eta 0", 1, true, 1, Coefficients.class, State.class);
  }

  /** The config's ddim_sampling_eta. */
  @Override
  public double defaultEta(Denoiser d) {
    return d == null ? 0 : d.samplingDefaults().ddimEta();
  }

  /**
   * With abar = 1 / (1 + sigma^2), DDIM's sigma_t^2 = eta^2 (1 - abar_next) / (1 - abar)
   * (1 - abar / abar_next) in x_t's scale is sigma_up^2 = sigma_t^2 (1 + sigma_next^2) here, and
   * sigma_down^2 = sigma_next^2 - sigma_up^2.
   */
  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    List<Coefficients> plan = new ArrayList<>();
    for (int i = 0; i < sigmas.length - 1; i++) {
      double[] downUp = downUp(sigmas[i], sigmas[i + 1], settings.eta());
      plan.add(new Coefficients(Value.of(sigmas[i]), Value.of(downUp[0]), Value.of(downUp[1] * settings.sNoise())));
    }
    return plan;
  }

  /** {sigma_down, sigma_up} of the step from {@code s} to {@code next} at {@code eta}. */
  static double[] downUp(double s, double next, double eta) {
    double abar = 1 / (1 + s * s);
    double abarNext = 1 / (1 + next * next);
    double variance = eta * eta * (1 - abarNext) / (1 - abar) * (1 - abar / abarNext);
    double up = Math.sqrt(Math.max(variance, 0) * (1 + next * next));
    return new double[] {Math.sqrt(Math.max(next * next - up * up, 0)), up};
  }

  @Override
  public boolean renoises() {
    return true;
  }

  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Step.Estimate e = step.estimate(state.x(), c.sigma());
    return new State(e.denoised().plus(e.noise().times(c.sigmaDown())).plus(step.noise().times(c.noiseStd())));
  }
}
