package io.diffusion4j.diffusion;

import io.diffusion4j.io.ConfigRecords;
import java.util.Map;

/** The reference's beta schedules, computed in double precision as it computes them. */
public enum BetaSchedule {
  /** Ho et al. 2020, rescaled so that other step counts cover the same range. */
  LINEAR,
  /** Nichol and Dhariwal 2021; option {@code s} (0.008). */
  COSINE,
  /** Jabri et al. 2022 (arXiv 2212.11972, Fig. 8); options start (-3), end (3), tau (1), clamp_min. */
  SIGMOID;


  /** @param kwargs the reference's schedule_fn_kwargs */
  public double[] betas(int timesteps, Map<String, Double> kwargs) {
    for (String key : kwargs.keySet()) {
      boolean known = switch (this) {
        case LINEAR -> false;
        case COSINE -> key.equals("s");
        case SIGMOID -> key.equals("start") || key.equals("end") || key.equals("tau") || key.equals("clamp_min");
      };
      if (!known) {
        throw new IllegalArgumentException("schedule_fn_kwargs." + key + " is not an option of the "
            + ConfigRecords.configName(this) + " schedule (" + switch (this) {
              case LINEAR -> "it takes none";
              case COSINE -> "it takes s";
              case SIGMOID -> "it takes start, end, tau, clamp_min";
            } + ")");
      }
    }
    if (timesteps < 1) {
      throw new IllegalArgumentException("timesteps = " + timesteps + " must be at least 1");
    }
    return switch (this) {
      case LINEAR -> linear(timesteps);
      case COSINE -> cosine(timesteps, kwargs.getOrDefault("s", 0.008));
      case SIGMOID -> sigmoid(timesteps, kwargs.getOrDefault("start", -3.0), kwargs.getOrDefault("end", 3.0),
          kwargs.getOrDefault("tau", 1.0));
    };
  }

  static double[] linear(int timesteps) {
    double scale = 1000.0 / timesteps;
    double start = scale * 0.0001;
    double end = scale * 0.02;
    double[] b = new double[timesteps];
    for (int i = 0; i < timesteps; i++) {
      b[i] = timesteps == 1 ? start : start + (end - start) * i / (timesteps - 1);
    }
    return b;
  }

  static double[] cosine(int timesteps, double s) {
    double[] f = new double[timesteps + 1];
    for (int i = 0; i <= timesteps; i++) {
      double t = (double) i / timesteps;
      f[i] = Math.pow(Math.cos((t + s) / (1 + s) * Math.PI * 0.5), 2);
    }
    return fromAlphasCumprod(f);
  }

  static double[] sigmoid(int timesteps, double start, double end, double tau) {
    // the reference takes these two from float32 tensors; rounding them the same way matches its betas
    double vStart = (float) sigm(start / tau);
    double vEnd = (float) sigm(end / tau);
    double[] f = new double[timesteps + 1];
    for (int i = 0; i <= timesteps; i++) {
      double t = (double) i / timesteps;
      f[i] = (-sigm((t * (end - start) + start) / tau) + vEnd) / (vEnd - vStart);
    }
    return fromAlphasCumprod(f);
  }

  /** betas = 1 - f[t+1] / f[t], clipped to [0, 0.999], as both continuous schedules do. */
  private static double[] fromAlphasCumprod(double[] f) {
    double[] b = new double[f.length - 1];
    for (int i = 0; i < b.length; i++) {
      double beta = 1 - (f[i + 1] / f[0]) / (f[i] / f[0]);
      b[i] = Math.min(Math.max(beta, 0), 0.999);
    }
    return b;
  }

  private static double sigm(double x) {
    return 1 / (1 + Math.exp(-x));
  }
}
