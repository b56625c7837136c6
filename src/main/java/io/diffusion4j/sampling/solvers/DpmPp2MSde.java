package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * DPM-Solver++(2M) SDE, midpoint variant (k-diffusion's sample_dpmpp_2m_sde): the 2M step of the
 * reverse SDE, which at each step forgets e^(-eta h) of the sample's noise and adds that much
 * fresh noise; eta 0 is an ODE solver. The last step, to sigma 0, lands on the estimate.
 */
public final class DpmPp2MSde extends Solver<DpmPp2MSde.Coefficients, DpmPp2MSde.State> {

  /** x_next = keep x + toDenoised D + history (D - D_old) + noiseStd n. */
  public record Coefficients(Value sigma, Value keep, Value toDenoised, Value history, Value noiseStd) {}

  public record State(Value x, Value old) {}

  public DpmPp2MSde() {
    super("dpmpp_2m_sde", "DPM-Solver++(2M) SDE, midpoint (Lu et al. 2022)", 2, true, 1, Coefficients.class,
        State.class);
  }

  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    List<Coefficients> plan = new ArrayList<>();
    double eta = settings.eta();
    double hLast = Double.NaN;
    for (int i = 0; i < sigmas.length - 1; i++) {
      double s = sigmas[i];
      double next = sigmas[i + 1];
      if (next == 0) {
        plan.add(new Coefficients(Value.of(s), Value.of(0), Value.of(1), Value.of(0), Value.of(0)));
        continue;
      }
      double h = Math.log(s) - Math.log(next);
      double etaH = eta * h;
      double toDenoised = -Math.expm1(-h - etaH);
      double history = i > 0 ? 0.5 * toDenoised * h / hLast : 0;
      double noiseStd = eta > 0 ? next * Math.sqrt(-Math.expm1(-2 * etaH)) * settings.sNoise() : 0;
      plan.add(new Coefficients(Value.of(s), Value.of(next / s * Math.exp(-etaH)), Value.of(toDenoised),
          Value.of(history), Value.of(noiseStd)));
      hLast = h;
    }
    return plan;
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value denoised = step.denoise(state.x(), c.sigma());
    Value x = state.x().times(c.keep()).plus(denoised.times(c.toDenoised()))
        .plus(denoised.minus(state.old()).times(c.history())).plus(step.noise().times(c.noiseStd()));
    return new State(x, denoised);
  }
}
