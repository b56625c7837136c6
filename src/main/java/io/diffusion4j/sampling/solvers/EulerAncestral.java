package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * Ancestral sampling with Euler steps (k-diffusion's sample_euler_ancestral): an Euler step down
 * to sigma_down, then sigma_up of fresh noise, so that the sample is at sigma_next again.
 */
public final class EulerAncestral extends Solver<EulerAncestral.Coefficients, EulerAncestral.State> {

  public record Coefficients(Value sigma, Value dt, Value noiseStd) {}

  public record State(Value x) {}

  public EulerAncestral() {
    super("euler_ancestral", "Euler steps with ancestral noise", 1, true, 1, Coefficients.class, State.class);
  }

  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    List<Coefficients> plan = new ArrayList<>();
    for (int i = 0; i < sigmas.length - 1; i++) {
      Ancestral a = Ancestral.of(sigmas[i], sigmas[i + 1], settings.eta());
      plan.add(new Coefficients(Value.of(sigmas[i]), Value.of(a.down() - sigmas[i]),
          Value.of(a.up() * settings.sNoise())));
    }
    return plan;
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = state.x();
    return new State(x.plus(step.slope(x, c.sigma()).times(c.dt())).plus(step.noise().times(c.noiseStd())));
  }
}
