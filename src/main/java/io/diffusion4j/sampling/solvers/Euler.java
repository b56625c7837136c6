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
    for (int i = 0; i < sigmas.length - 1; i++) {
      Churn churn = Churn.before(sigmas, i, settings);
      plan.add(new Coefficients(Value.of(churn.sigmaHat()), Value.of(churn.noiseStd()),
          Value.of(sigmas[i + 1] - churn.sigmaHat())));
    }
    return plan;
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = state.x().plus(step.noise().times(c.churnStd()));
    return new State(x.plus(step.slope(x, c.sigmaHat()).times(c.dt())));
  }
}
