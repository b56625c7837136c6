package io.diffusion4j.sampling.solvers;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * DDPM (Ho et al. 2020, Algorithm 2): ancestral sampling through every timestep of a Gaussian
 * diffusion, whose posterior step is DDIM's at eta 1 with x0 clamped, as in the reference. A
 * model of continuous noise levels takes the steps given. A network that learns its variance
 * (Nichol and Dhariwal 2021, Eq. 15) sets the step's noise to exp(v log beta + (1 - v) log
 * beta~), beta and the posterior's beta~ of the step's pair of levels (a respaced schedule's, as
 * their Sec. 4 respaces), keeping the posterior mean; eta scales that noise as it scales DDPM's.
 */
public final class Ddpm extends Solver<Ddpm.Coefficients, Ddim.State> {

  /**
   * @param nextScale eta sqrt(1 + sigma_next^2) s_noise, x_t's scale to this view's; 0 into sigma 0, which takes no noise
   * @param logBeta log(1 - abar / abar_next), clamped as the reference clamps the posterior's
   */
  public record Coefficients(Value sigma, Value sigmaDown, Value noiseStd, Value logBeta, Value logPosteriorVariance,
      Value nextScale) {}

  public Ddpm() {
    super("ddpm", "DDPM (Ho et al. 2020): ancestral through every timestep", 1, true, 1, Coefficients.class,
        Ddim.State.class);
  }

  @Override
  public double defaultEta(Denoiser d) {
    return 1;
  }

  @Override
  public int steps(Denoiser d, int requested) {
    return d.timesteps() > 0 ? d.timesteps() : requested;
  }

  @Override
  public boolean renoises() {
    return true;
  }

  @Override
  public List<Coefficients> plan(double[] sigmas, Settings settings) {
    List<Coefficients> plan = new ArrayList<>();
    for (int i = 0; i < sigmas.length - 1; i++) {
      double s = sigmas[i];
      double next = sigmas[i + 1];
      double[] downUp = Ddim.downUp(s, next, settings.eta());
      double abar = 1 / (1 + s * s);
      double abarNext = 1 / (1 + next * next);
      double beta = 1 - abar / abarNext;
      double posterior = (1 - abarNext) / (1 - abar) * beta;
      plan.add(new Coefficients(Value.of(s), Value.of(downUp[0]), Value.of(downUp[1] * settings.sNoise()),
          Value.of(Math.log(Math.max(beta, 1e-20))), Value.of(Math.log(Math.max(posterior, 1e-20))),
          Value.of(next > 0 ? settings.eta() * Math.sqrt(1 + next * next) * settings.sNoise() : 0)));
    }
    return plan;
  }

  @Override
  public Ddim.State step(Step step, Ddim.State state, Coefficients c, boolean last) {
    Step.Estimate e = step.estimate(state.x(), c.sigma());
    Value mean = e.denoised().plus(e.noise().times(c.sigmaDown()));
    Value std = e.varianceFrac() == null ? c.noiseStd()
        : e.varianceFrac().times(c.logBeta().minus(c.logPosteriorVariance())).plus(c.logPosteriorVariance())
            .times(0.5).exp().times(c.nextScale());
    return new Ddim.State(mean.plus(step.noise().times(std)));
  }
}
