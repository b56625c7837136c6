package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Step;

/**
 * Heun's second-order method with churn, Karras et al. 2022, Algorithm 2 (k-diffusion's
 * sample_heun, the reference's ElucidatedDiffusion.sample): an Euler step, then the average of
 * its slope and the slope where it lands; the last step, to sigma 0, is Euler's.
 */
public final class Heun extends Churning<Heun.Coefficients, Heun.State> {

  public record Coefficients(Value sigmaHat, Value churnStd, Value sigmaNext, Value dt) {}

  public record State(Value x) {}

  public Heun() {
    super("heun", "Heun (Karras et al. 2022, Algorithm 2)", 2, 2, Coefficients.class, State.class);
  }

  @Override
  Coefficients coefficients(double sigmaHat, double churnStd, double next) {
    return new Coefficients(Value.of(sigmaHat), Value.of(churnStd), Value.of(next), Value.of(next - sigmaHat));
  }

  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = churned(step, state.x(), c.churnStd());
    Value d = step.slope(x, c.sigmaHat());
    Value euler = x.plus(d.times(c.dt()));
    if (last) {
      return new State(euler);
    }
    Value d2 = step.slope(euler, c.sigmaNext());
    return new State(x.plus(d.plus(d2).times(c.dt()).times(0.5)));
  }
}
