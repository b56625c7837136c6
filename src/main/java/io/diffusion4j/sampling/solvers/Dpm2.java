package io.diffusion4j.sampling.solvers;

import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import io.diffusion4j.sampling.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * A second-order sampler after DPM-Solver-2 (Lu et al. 2022) with Karras et al.'s churn
 * (k-diffusion's sample_dpm_2): the slope at the log-midpoint of the step carries the whole step;
 * the last step, to sigma 0, is Euler's.
 */
public final class Dpm2 extends Solver<Dpm2.Coefficients, Dpm2.State> {

  public record Coefficients(Value sigmaHat, Value churnStd, Value sigmaMid, Value dtMid, Value dt) {}

  public record State(Value x) {}

  public Dpm2() {
    super("dpm_2", "DPM-Solver-2 (Lu et al. 2022), Karras et al.'s variant", 2, false, 2,
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
      double hat = churn.sigmaHat();
      double next = sigmas[i + 1];
      // the midpoint in log sigma (undefined for the last step, which does not use it)
      double mid = next > 0 ? Math.sqrt(hat * next) : hat;
      plan.add(new Coefficients(Value.of(hat), Value.of(churn.noiseStd()), Value.of(mid), Value.of(mid - hat),
          Value.of(next - hat)));
    }
    return plan;
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = state.x().plus(step.noise().times(c.churnStd()));
    Value d = step.slope(x, c.sigmaHat());
    if (last) {
      return new State(x.plus(d.times(c.dt())));
    }
    Value x2 = x.plus(d.times(c.dtMid()));
    return new State(x.plus(step.slope(x2, c.sigmaMid()).times(c.dt())));
  }
}
