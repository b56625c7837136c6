package io.diffusion4j.sampling.solvers;

import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import io.diffusion4j.sampling.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * Euler's method on the probability-flow ODE dx/dsigma = (x - D(x; sigma)) / sigma, with the
 * churn of Karras et al. 2022, Algorithm 2 (k-diffusion's sample_euler).
 */
public final class Euler extends Solver<Euler.Coefficients, Euler.State> {

  /** The raised level sigma_hat = (1 + gamma) sigma, the churn noise's std, and the step sigma_next - sigma_hat. */
  public record Coefficients(Value sigmaHat, Value churnStd, Value dt) {}

  public record State(Value x) {}

  public Euler() {
    super("euler", "Euler (Karras et al. 2022, Algorithm 2 without the correction)", 1, false, 1,
        Coefficients.class, State.class);
  }

  @Override
  public boolean churns() {
    return true;
  }

  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    List<Coefficients> plan = new ArrayList<>();
    int steps = sigmas.length - 1;
    for (int i = 0; i < steps; i++) {
      double hat = sigmas[i] * (1 + settings.churn().gamma(sigmas[i], steps));
      double churnStd = settings.sNoise() * Math.sqrt(hat * hat - sigmas[i] * sigmas[i]);
      plan.add(new Coefficients(Value.of(hat), Value.of(churnStd), Value.of(sigmas[i + 1] - hat)));
    }
    return plan;
  }

  @Override
  public State start(Value x) {
    return new State(x);
  }

  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = state.x().plus(step.noise().times(c.churnStd()));
    Value d = x.minus(step.denoise(x, c.sigmaHat())).div(c.sigmaHat());
    return new State(x.plus(d.times(c.dt())));
  }
}
