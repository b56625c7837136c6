package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * Ancestral sampling with DPM-Solver++(2S) steps (k-diffusion's sample_dpmpp_2s_ancestral): a
 * single-step second-order update down to sigma_down through the estimate at the log-midpoint,
 * then sigma_up of fresh noise; the last step, to sigma 0, is Euler's.
 */
public final class DpmPp2SAncestral extends Solver<DpmPp2SAncestral.Coefficients, DpmPp2SAncestral.State> {

  /**
   * x_mid = ratioMid x + toDenoisedMid D(x; sigma), then x_next = ratio x + toDenoised
   * D(x_mid; sigmaMid) + noiseStd n; the last step x + (x - D) / sigma * dtEuler.
   */
  public record Coefficients(Value sigma, Value sigmaMid, Value ratioMid, Value toDenoisedMid, Value ratio,
      Value toDenoised, Value dtEuler, Value noiseStd) {}

  public record State(Value x) {}

  public DpmPp2SAncestral() {
    super("dpmpp_2s_ancestral", "DPM-Solver++(2S) steps with ancestral noise (Lu et al. 2022)", 2, true, 2,
        Coefficients.class, State.class);
  }

  /** Up to eta 1 every step but the last keeps a positive sigma_down, where the 2S step is defined. */
  @Override
  public double maxEta() {
    return 1;
  }

  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    List<Coefficients> plan = new ArrayList<>();
    for (int i = 0; i < sigmas.length - 1; i++) {
      double s = sigmas[i];
      Ancestral a = Ancestral.of(s, sigmas[i + 1], settings.eta());
      double h = a.down() > 0 ? Math.log(s) - Math.log(a.down()) : Double.POSITIVE_INFINITY;
      double mid = Math.exp(Math.log(s) - h / 2);
      plan.add(new Coefficients(Value.of(s), Value.of(mid), Value.of(mid / s), Value.of(-Math.expm1(-h / 2)),
          Value.of(a.down() / s), Value.of(-Math.expm1(-h)), Value.of(a.down() - s),
          Value.of(a.up() * settings.sNoise())));
    }
    return plan;
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value x = state.x();
    Value denoised = step.denoise(x, c.sigma());
    if (last) {
      return new State(x.plus(x.minus(denoised).div(c.sigma()).times(c.dtEuler())));
    }
    Value xMid = x.times(c.ratioMid()).plus(denoised.times(c.toDenoisedMid()));
    Value denoisedMid = step.denoise(xMid, c.sigmaMid());
    return new State(x.times(c.ratio()).plus(denoisedMid.times(c.toDenoised())).plus(step.noise().times(c.noiseStd())));
  }
}
