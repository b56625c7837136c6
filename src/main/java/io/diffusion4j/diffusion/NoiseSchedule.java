package io.diffusion4j.diffusion;

/**
 * The per-timestep quantities GaussianDiffusion derives from its betas, in double precision. The
 * graph uses them as float32 constants, exactly as the reference registers its buffers.
 */
public final class NoiseSchedule {
  public final int timesteps;
  public final double[] betas;
  public final double[] alphasCumprod;
  public final double[] alphasCumprodPrev;
  public final double[] sqrtAlphasCumprod;
  public final double[] sqrtOneMinusAlphasCumprod;
  public final double[] sqrtRecipAlphasCumprod;
  public final double[] sqrtRecipm1AlphasCumprod;
  public final double[] posteriorVariance;
  public final double[] posteriorLogVarianceClipped;
  public final double[] posteriorMeanCoef1;
  public final double[] posteriorMeanCoef2;
  /** Signal-to-noise ratio alpha_bar / (1 - alpha_bar). */
  public final double[] snr;

  public NoiseSchedule(double[] betas) {
    int n = betas.length;
    this.timesteps = n;
    this.betas = betas.clone();
    alphasCumprod = new double[n];
    alphasCumprodPrev = new double[n];
    sqrtAlphasCumprod = new double[n];
    sqrtOneMinusAlphasCumprod = new double[n];
    sqrtRecipAlphasCumprod = new double[n];
    sqrtRecipm1AlphasCumprod = new double[n];
    posteriorVariance = new double[n];
    posteriorLogVarianceClipped = new double[n];
    posteriorMeanCoef1 = new double[n];
    posteriorMeanCoef2 = new double[n];
    snr = new double[n];
    double acc = 1;
    for (int t = 0; t < n; t++) {
      alphasCumprodPrev[t] = acc;
      acc *= 1 - betas[t];
      double a = acc;
      double prev = alphasCumprodPrev[t];
      alphasCumprod[t] = a;
      sqrtAlphasCumprod[t] = Math.sqrt(a);
      sqrtOneMinusAlphasCumprod[t] = Math.sqrt(1 - a);
      sqrtRecipAlphasCumprod[t] = Math.sqrt(1 / a);
      sqrtRecipm1AlphasCumprod[t] = Math.sqrt(1 / a - 1);
      posteriorVariance[t] = betas[t] * (1 - prev) / (1 - a);
      posteriorLogVarianceClipped[t] = Math.log(Math.max(posteriorVariance[t], 1e-20));
      posteriorMeanCoef1[t] = betas[t] * Math.sqrt(prev) / (1 - a);
      posteriorMeanCoef2[t] = (1 - prev) * Math.sqrt(1 - betas[t]) / (1 - a);
      snr[t] = a / (1 - a);
    }
  }

  /**
   * The per-timestep loss weight (Hang et al. 2023, min-SNR-gamma, when {@code minSnrGamma} is
   * not null): objectives regress different targets, and these weights make each equivalent to
   * weighting the x0 error by the (clipped) SNR.
   */
  public double[] lossWeight(Objective objective, Double minSnrGamma) {
    double[] w = new double[timesteps];
    for (int t = 0; t < timesteps; t++) {
      w[t] = objective.lossWeight(minSnrGamma == null ? snr[t] : Math.min(snr[t], minSnrGamma), snr[t]);
    }
    return w;
  }

  /**
   * The DDIM time pairs (t, t_next) from T-1 down to (0, -1) for {@code steps} steps, spaced as the
   * reference spaces them: int() of linspace(-1, T-1, steps+1), reversed.
   */
  public int[][] ddimTimePairs(int steps) {
    if (steps < 1 || steps > timesteps) {
      throw new IllegalArgumentException("sampling steps = " + steps + " must be between 1 and timesteps (" + timesteps + ")");
    }
    // torch.linspace(-1, T-1, steps+1) as its CPU kernel computes it in float32 (the first half
    // counted up from the start, the second down from the end), then .int() truncating toward
    // zero: values that land just below an integer pick the lower timestep, as the reference does
    int n = steps + 1;
    float start = -1f;
    float end = timesteps - 1;
    float step = (end - start) / steps;
    int[] times = new int[n];
    for (int i = 0; i < n; i++) {
      float v = i < n / 2 ? start + step * i : end - step * (n - 1 - i);
      times[steps - i] = (int) v;
    }
    int[][] pairs = new int[steps][2];
    for (int i = 0; i < steps; i++) {
      pairs[i][0] = times[i];
      pairs[i][1] = times[i + 1];
    }
    return pairs;
  }

  static float[] toFloat(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }
}
