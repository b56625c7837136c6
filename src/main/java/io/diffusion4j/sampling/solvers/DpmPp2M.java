package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * DPM-Solver++(2M) (Lu et al. 2022), k-diffusion's sample_dpmpp_2m: in t = -ln sigma, the
 * exponential integrator over a linear extrapolation of the last two denoised estimates; first
 * order on the first step and on the last, to sigma 0 (which lands on the estimate).
 */
public final class DpmPp2M extends Solver<DpmPp2M.Coefficients, DpmPp2M.State> {

  /**
   * x_next = ratio x + toDenoised (weightNow D + weightOld D_old), with ratio = sigma_next / sigma
   * and toDenoised = -expm1(-h).
   */
  public record Coefficients(Value sigma, Value ratio, Value toDenoised, Value weightNow, Value weightOld) {}

  public record State(Value x, Value old) {}

  public DpmPp2M() {
    super("dpmpp_2m", "DPM-Solver++(2M) (Lu et al. 2022)", 2, false, 1, Coefficients.class, State.class);
  }

  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    List<Coefficients> plan = new ArrayList<>();
    for (int i = 0; i < sigmas.length - 1; i++) {
      double s = sigmas[i];
      double next = sigmas[i + 1];
      double h = Math.log(s) - Math.log(next);
      double weightOld = 0;
      if (i > 0 && next > 0) {
        double r = (Math.log(sigmas[i - 1]) - Math.log(s)) / h;
        weightOld = -1 / (2 * r);
      }
      plan.add(new Coefficients(Value.of(s), Value.of(next / s), Value.of(-Math.expm1(-h)),
          Value.of(1 - weightOld), Value.of(weightOld)));
    }
    return plan;
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value denoised = step.denoise(state.x(), c.sigma());
    Value extrapolated = denoised.times(c.weightNow()).plus(state.old().times(c.weightOld()));
    return new State(state.x().times(c.ratio()).plus(extrapolated.times(c.toDenoised())), denoised);
  }
}
