package io.diffusion4j.diffusion;

import io.diffusion4j.diffusion.VariancePreserving.Level;
import io.diffusion4j.nn.Value;

/**
 * What the network predicts at x_t = alpha x0 + s eps: the noise, the clean data, or v; each is a
 * reading of the output, a regression target and the loss weight that makes every objective the
 * same x0 error.
 */
public enum Objective implements VariancePreserving.Reading {
  /** eps: x0 = x - sigma eps (k-diffusion's DiscreteEpsDDPMDenoiser). */
  PRED_NOISE,
  PRED_X0,
  /**
   * Salimans and Ho 2022, appendix D: v = alpha eps - s x0, so x0 = alpha x_t - s v = alpha (x_t -
   * sigma v) (k-diffusion's DiscreteVDDPMDenoiser).
   */
  PRED_V;

  @Override
  public Value x0(Level at, Value out) {
    return switch (this) {
      case PRED_NOISE -> at.x().minus(at.sigma().times(out));
      case PRED_X0 -> out;
      case PRED_V -> at.alpha().times(at.xt().minus(at.sigma().times(out)));
    };
  }

  @Override
  public Value statedNoise(Value out) {
    return this == PRED_NOISE ? out : null;
  }

  /** What the network regresses at x_t = alpha x0 + s eps. */
  public Value target(Value x0, Value eps, Value alpha, Value s) {
    return switch (this) {
      case PRED_NOISE -> eps;
      case PRED_X0 -> x0;
      case PRED_V -> alpha.times(eps).minus(s.times(x0));
    };
  }

  /**
   * The loss weight at signal-to-noise ratio {@code snr} that makes this objective's squared
   * error the x0 error weighted by {@code x0Weight} (the SNR itself, or min-SNR-gamma's clipped
   * SNR, Hang et al. 2023): eps's error is the x0 error over snr, v's over snr + 1.
   */
  public double lossWeight(double x0Weight, double snr) {
    return switch (this) {
      case PRED_NOISE -> x0Weight / snr;
      case PRED_X0 -> x0Weight;
      case PRED_V -> x0Weight / (snr + 1);
    };
  }
}
