package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Step;

/**
 * A second-order sampler after DPM-Solver-2 (Lu et al. 2022) with Karras et al.'s churn
 * (k-diffusion's sample_dpm_2): the slope at the log-midpoint of the step carries the whole step;
 * the last step, to sigma 0, is Euler's.
 */
public final class Dpm2 extends Churning<Dpm2.Coefficients, Dpm2.State> {

  public record Coefficients(Value sigmaHat, Value churnStd, Value sigmaMid, Value dtMid, Value dt) {}

  public record State(Value x) {}

  public Dpm2() {
    super("dpm_2", "DPM-Solver-2 (Lu et al. 2022), Karras et al.'s variant", 2, 2, Coefficients.class, State.class);
  }

  @Override
  Coefficients coefficients(double sigmaHat, double churnStd, double next) {
    // the midpoint in log sigma (undefined for the last step, which does not use it)
    double mid = next > 0 ? Math.sqrt(sigmaHat * next) : sigmaHat;
    return new Coefficients(Value.of(sigmaHat), Value.of(churnStd), Value.of(mid), Value.of(mid - sigmaHat),
        Value.of(next - sigmaHat));
  }

  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = churned(step, state.x(), c.churnStd());
    Value d = step.slope(x, c.sigmaHat());
    if (last) {
      return new State(x.plus(d.times(c.dt())));
    }
    Value x2 = x.plus(d.times(c.dtMid()));
    return new State(x.plus(step.slope(x2, c.sigmaMid()).times(c.dt())));
  }
}
