package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * DPM-Solver++(3M) SDE (k-diffusion's sample_dpmpp_3m_sde): a third-order multistep update from
 * the last three denoised estimates (second order on the second step, first on the first), with
 * the reverse SDE's noise; eta 0 is an ODE solver. The last step, to sigma 0, lands on the
 * estimate.
 */
public final class DpmPp3MSde extends Solver<DpmPp3MSde.Coefficients, DpmPp3MSde.State> {

  /** x_next = keep x + weightNow D + weightPrev D_1 + weightPrev2 D_2 + noiseStd n. */
  public record Coefficients(Value sigma, Value keep, Value weightNow, Value weightPrev, Value weightPrev2,
      Value noiseStd) {}

  public record State(Value x, Value prev, Value prev2) {}

  public DpmPp3MSde() {
    super("dpmpp_3m_sde", "DPM-Solver++(3M) SDE (Lu et al. 2022)", 3, true, 1, Coefficients.class, State.class);
  }

  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    List<Coefficients> plan = new ArrayList<>();
    double eta = settings.eta();
    double h1 = Double.NaN;
    double h2 = Double.NaN;
    for (int i = 0; i < sigmas.length - 1; i++) {
      double s = sigmas[i];
      double next = sigmas[i + 1];
      if (next == 0) {
        plan.add(new Coefficients(Value.of(s), Value.of(0), Value.of(1), Value.of(0), Value.of(0), Value.of(0)));
        continue;
      }
      double h = Math.log(s) - Math.log(next);
      double hEta = h * (eta + 1);
      double now = -Math.expm1(-hEta);
      double prev = 0;
      double prev2 = 0;
      double phi2 = Math.expm1(-hEta) / hEta + 1;
      if (i >= 2) {
        // d1 = d1_0 + (d1_0 - d1_1) r0 / (r0 + r1), d2 = (d1_0 - d1_1) / (r0 + r1), x += phi2 d1 - phi3 d2,
        // with d1_0 = (D - D_1) / r0 and d1_1 = (D_1 - D_2) / r1, collected per estimate
        double r0 = h1 / h;
        double r1 = h2 / h;
        double phi3 = phi2 / hEta - 0.5;
        double q = r0 / (r0 + r1);
        double a = phi2 * (1 + q) - phi3 / (r0 + r1);
        double b = -phi2 * q + phi3 / (r0 + r1);
        now += a / r0;
        prev = b / r1 - a / r0;
        prev2 = -b / r1;
      } else if (i == 1) {
        double r = h1 / h;
        now += phi2 / r;
        prev = -phi2 / r;
      }
      double noiseStd = eta > 0 ? next * Math.sqrt(-Math.expm1(-2 * h * eta)) * settings.sNoise() : 0;
      plan.add(new Coefficients(Value.of(s), Value.of(Math.exp(-hEta)), Value.of(now), Value.of(prev),
          Value.of(prev2), Value.of(noiseStd)));
      h2 = h1;
      h1 = h;
    }
    return plan;
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value denoised = step.denoise(state.x(), c.sigma());
    Value x = state.x().times(c.keep()).plus(denoised.times(c.weightNow())).plus(state.prev().times(c.weightPrev()))
        .plus(state.prev2().times(c.weightPrev2())).plus(step.noise().times(c.noiseStd()));
    return new State(x, denoised, state.prev());
  }
}
