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
    int steps = sigmas.length - 1;
    for (int i = 0; i < steps; i++) {
      double hat = sigmas[i] * (1 + settings.churn().gamma(sigmas[i], steps));
      double churnStd = settings.sNoise() * Math.sqrt(hat * hat - sigmas[i] * sigmas[i]);
      plan.add(new Coefficients(Value.of(hat), Value.of(churnStd), Value.of(sigmas[i + 1]),
          Value.of(sigmas[i + 1] - hat)));
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
    Value euler = x.plus(d.times(c.dt()));
    if (last) {
      return new State(euler);
    }
    Value d2 = euler.minus(step.denoise(euler, c.sigmaNext())).div(c.sigmaNext());
    return new State(x.plus(d.plus(d2).times(c.dt()).times(0.5)));
  }
}
