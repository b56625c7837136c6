package io.diffusion4j.sampling.solvers;

import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import io.diffusion4j.sampling.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * Heun's second-order method with churn, Karras et al. 2022, Algorithm 2 (k-diffusion's
 * sample_heun, the reference's ElucidatedDiffusion.sample): an Euler step, then the average of
 * its slope and the slope where it lands; the last step, to sigma 0, is Euler's.
 */
public final class Heun extends Solver<Heun.Coefficients, Heun.State> {

  public record Coefficients(Value sigmaHat, Value churnStd, Value sigmaNext, Value dt) {}

  public record State(Value x) {}

  public Heun() {
    super("heun", "Heun (Karras et al. 2022, Algorithm 2)", 2, false, 2, Coefficients.class, State.class);
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
      plan.add(new Coefficients(Value.of(churn.sigmaHat()), Value.of(churn.noiseStd()), Value.of(sigmas[i + 1]),
          Value.of(sigmas[i + 1] - churn.sigmaHat())));
    }
    return plan;
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = state.x().plus(step.noise().times(c.churnStd()));
    Value d = step.slope(x, c.sigmaHat());
    Value euler = x.plus(d.times(c.dt()));
    if (last) {
      return new State(euler);
    }
    Value d2 = step.slope(euler, c.sigmaNext());
    return new State(x.plus(d.plus(d2).times(c.dt()).times(0.5)));
  }
}
