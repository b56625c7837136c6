package io.diffusion4j.sampling.solvers;

import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * UniPC (Zhao et al. 2023) with B(h) = e^h - 1 ("bh2"), data prediction, order 2, as diffusers'
 * UniPCMultistepScheduler runs it: at each step the estimate at the new point first corrects
 * that point (UniC, using the estimate it already has, so no extra evaluation), then the
 * predictor (UniP) takes the next step from it; lower orders on the first step and the last.
 * In the sigma view alpha = 1 and lambda = -ln sigma.
 */
public final class UniPc extends Solver<UniPc.Coefficients, UniPc.State> {
  /** The predictor's order; the corrector raises the method's by one. */
  private static final int ORDER = 2;

  /**
   * Corrector: x_c = keepCorrected x + fromLast x_last + corrNow D + corrPrev D_1 + corrPrev2 D_2
   * (x itself on the first step). Predictor: x_next = keep x_c + predNow D + predPrev D_1.
   */
  public record Coefficients(Value sigma, Value keepCorrected, Value fromLast, Value corrNow, Value corrPrev,
      Value corrPrev2, Value keep, Value predNow, Value predPrev) {}

  /** The sample, the sample before the last predictor step, and the last two estimates. */
  public record State(Value x, Value last, Value prev, Value prev2) {}

  public UniPc() {
    super("unipc", "UniPC, bh2, predictor of order 2 with its corrector (Zhao et al. 2023)", ORDER + 1, false, 1,
        Coefficients.class, State.class);
  }

  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    int steps = sigmas.length - 1;
    double[] lambda = new double[sigmas.length];
    for (int i = 0; i < sigmas.length; i++) {
      lambda[i] = -Math.log(sigmas[i]);
    }
    List<Coefficients> plan = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      double[] corr = {1, 0, 0, 0, 0};
      if (i > 0) {
        corr = corrector(sigmas, lambda, i, order(i - 1, steps));
      }
      double[] pred = predictor(sigmas, lambda, i, order(i, steps));
      plan.add(new Coefficients(Value.of(sigmas[i]), Value.of(corr[0]), Value.of(corr[1]), Value.of(corr[2]),
          Value.of(corr[3]), Value.of(corr[4]), Value.of(pred[0]), Value.of(pred[1]), Value.of(pred[2])));
    }
    return plan;
  }

  /** The order at step i: warming up from 1, and lower at the end (diffusers' lower_order_final). */
  private static int order(int i, int steps) {
    return Math.min(ORDER, Math.min(i + 1, steps - i));
  }

  /** UniP from step i: {keep, predNow, predPrev}. */
  private static double[] predictor(double[] sigmas, double[] lambda, int i, int order) {
    double h = lambda[i + 1] - lambda[i];
    double hPhi1 = Math.expm1(-h);
    double bh = Math.expm1(-h);
    double keep = sigmas[i + 1] / sigmas[i];
    if (order == 1) {
      return new double[] {keep, -hPhi1, 0};
    }
    // D1 = (D_1 - D) / r with r = (lambda_{i-1} - lambda_i) / h, and rho_p = 1/2 at order 2
    double r = (lambda[i - 1] - lambda[i]) / h;
    return new double[] {keep, -hPhi1 + 0.5 * bh / r, -0.5 * bh / r};
  }

  /**
   * UniC at step i of the previous predictor's step (from i - 1, of its order): {keepCorrected,
   * fromLast, corrNow, corrPrev, corrPrev2}.
   */
  private static double[] corrector(double[] sigmas, double[] lambda, int i, int order) {
    double h = lambda[i] - lambda[i - 1];
    double hh = -h;
    double hPhi1 = Math.expm1(hh);
    double bh = Math.expm1(hh);
    double fromLast = sigmas[i] / sigmas[i - 1];
    if (order == 1) {
      // rho_c = 1/2
      return new double[] {0, fromLast, -0.5 * bh, -hPhi1 + 0.5 * bh, 0};
    }
    // R rho = b with R = [[1, 1], [r, 1]], b_k = h phi_k(h) k! / B(h)
    double r = (lambda[i - 2] - lambda[i - 1]) / h;
    double hPhiK = hPhi1 / hh - 1;
    double b1 = hPhiK / bh;
    hPhiK = hPhiK / hh - 1.0 / 2;
    double b2 = hPhiK * 2 / bh;
    double det = 1 - r;
    double rho0 = (b1 - b2) / det;
    double rho1 = (b2 - r * b1) / det;
    // x_c = fromLast x_last - hPhi1 D_1 - B(h) (rho0 (D_2 - D_1) / r + rho1 (D - D_1))
    return new double[] {0, fromLast, -bh * rho1, -hPhi1 + bh * rho0 / r + bh * rho1, -bh * rho0 / r};
  }


  @Override
  public State step(Step step, State state, Coefficients c, boolean last) {
    Value denoised = step.denoise(state.x(), c.sigma());
    Value corrected = state.x().times(c.keepCorrected()).plus(state.last().times(c.fromLast()))
        .plus(denoised.times(c.corrNow())).plus(state.prev().times(c.corrPrev())).plus(state.prev2().times(c.corrPrev2()));
    Value next = corrected.times(c.keep()).plus(denoised.times(c.predNow())).plus(state.prev().times(c.predPrev()));
    return new State(next, corrected, denoised, state.prev());
  }
}
