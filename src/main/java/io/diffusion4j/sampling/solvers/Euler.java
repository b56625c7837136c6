package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Step;

/**
 * Euler's method on the probability-flow ODE dx/dsigma = (x - D(x; sigma)) / sigma, with the
 * churn of Karras et al. 2022, Algorithm 2 (k-diffusion's sample_euler).
 */
public final class Euler extends Churning<Euler.Coefficients, Euler.State> {

  /** The raised level sigma_hat, the churn noise's std, and the step sigma_next - sigma_hat. */
  public record Coefficients(Value sigmaHat, Value churnStd, Value dt) {}

  public record State(Value x) {}

  public Euler() {
    super("euler", "Euler (Karras et al. 2022, Algorithm 2 without the correction)", 1, 1,
        Coefficients.class, State.class);
  }

  @Override
  Coefficients coefficients(double sigmaHat, double churnStd, double next) {
    return new Coefficients(Value.of(sigmaHat), Value.of(churnStd), Value.of(next - sigmaHat));
  }

  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = churned(step, state.x(), c.churnStd());
    return new State(x.plus(step.slope(x, c.sigmaHat()).times(c.dt())));
  }
}
