package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.diffusion.SamplingDefaults;
import io.diffusion4j.io.Check;

/**
 * How a run samples: the solver, its steps and schedule, the noise it adds (eta, s_noise and,
 * for the solvers that take it, Karras et al.'s churn), whether D's estimate of x0 is clamped to
 * [-1, 1] (the reference's clip_denoised), classifier-free guidance (null: none), and the seed.
 */
public record Settings(Solver<?, ?> solver, int steps, Schedule schedule, double eta, double sNoise, Churn churn,
    boolean clipDenoised, Guidance guidance, long seed) {

  /** Algorithm 2's churn: gamma_i = min(S_churn / N, sqrt(2) - 1) for S_tmin <= sigma_i <= S_tmax. */
  public record Churn(double sChurn, double sTmin, double sTmax) {
    public static final Churn NONE = new Churn(0, 0, Double.POSITIVE_INFINITY);

    public double gamma(double sigma, int steps) {
      return sChurn > 0 && sigma >= sTmin && sigma <= sTmax ? Math.min(sChurn / steps, Math.sqrt(2) - 1) : 0;
    }
  }

  public Settings {
    Check.atLeast("steps", steps, 1);
    Check.nonNegative("eta", eta);
    if (eta > solver.maxEta()) {
      throw new IllegalArgumentException("eta = " + eta + " is not allowed for " + solver.name() + ": at most "
          + solver.maxEta());
    }
    Check.nonNegative("s_noise", sNoise);
  }

  /**
   * Settings for {@code d}, with each null taken from the model's config (solver, steps, EDM's
   * churn and S_noise, DDIM's eta) or the solver's own default (eta 1 for the ancestral and SDE
   * solvers, s_noise 1), x0 clamped as {@link ClipDenoised#byDefault} says; a model with a null
   * class is guided as the reference's sample() guides ({@link Guidance#DEFAULT}).
   */
  public static Settings of(Denoiser d, Solver<?, ?> solver, Integer steps, Schedule schedule, Double eta,
      Double sNoise, long seed) {
    Solver<?, ?> s = solver != null ? solver : Solvers.defaultFor(d);
    SamplingDefaults defaults = d.samplingDefaults();
    SamplingDefaults.Churn edm = s.churns() ? defaults.churn() : null;
    Churn churn = edm != null ? new Churn(edm.sChurn(), edm.sTmin(), edm.sTmax()) : Churn.NONE;
    double noise = sNoise != null ? sNoise : edm != null ? edm.sNoise() : 1;
    Settings settings = new Settings(s, steps != null ? steps : defaults.steps(), schedule != null ? schedule : Schedule.OWN,
        eta != null ? eta : s.defaultEta(d), noise, churn, ClipDenoised.byDefault(d, s), null, seed);
    return d.network() != null && d.network().nullClass() ? settings.withGuidance(d, Guidance.DEFAULT) : settings;
  }

  /**
   * The same settings guided by {@code g} (null: unguided); fails unless {@code d} can be guided
   * (cond_scale 1 needs no unconditional path) and, for a CFG++ model, the solver re-noises as
   * CFG++ defines.
   */
  public Settings withGuidance(Denoiser d, Guidance g) {
    if (g != null && !g.conditionalOnly()) {
      Guidance.require(d.network());
      if (d.samplingDefaults().cfgPlusPlus() && !solver.renoises()) {
        throw new IllegalArgumentException("use_cfg_plus_plus is defined for the DDIM-type steps (ddim, ddpm), which"
            + " re-noise with the unconditional noise estimate; sampler " + solver.name() + " has no such step:"
            + " sample it with ddim or ddpm, or set use_cfg_plus_plus false");
      }
    }
    return new Settings(solver, steps, schedule, eta, sNoise, churn, clipDenoised, g, seed);
  }

  /** The same settings with x0 clamped to [-1, 1] or not; null keeps them as they are. */
  public Settings withClipDenoised(Boolean clamp) {
    return clamp == null ? this : new Settings(solver, steps, schedule, eta, sNoise, churn, clamp, guidance, seed);
  }

  /** The model's defaults, seeded. */
  public static Settings defaults(Denoiser d, long seed) {
    return of(d, null, null, null, null, null, seed);
  }

  /** The guidance the steps evaluate: none at cond_scale 1, plain conditional sampling with one evaluation a step. */
  public Guidance stepGuidance() {
    return guidance == null || guidance.conditionalOnly() ? null : guidance;
  }

  public Settings withSeed(long value) {
    return new Settings(solver, steps, schedule, eta, sNoise, churn, clipDenoised, guidance, value);
  }
}
