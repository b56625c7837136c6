package io.diffusion4j.train.posthoc;

import java.util.List;
import java.util.Locale;

/**
 * The power-function EMA profiles of Karras et al. 2024 (Sec. 3, App. C.1-C.2), in double
 * precision. A profile (t, gamma) weighs the weights of training time tau in [0, t] by
 * (gamma + 1) / t * (tau / t)^gamma; its width relative to t is sigma_rel.
 */
public final class PowerFunction {
  /**
   * The largest sigma_rel, reached as gamma goes to 0 (the flat profile: the plain mean of the
   * run), excluded: sigma_rel(0) = sqrt(1 / 12). Beyond it gamma would have to be negative.
   */
  public static final double MAX_SIGMA_REL = Math.sqrt(1.0 / 12);

  private PowerFunction() {}

  /** A profile: the EMA of exponent {@code gamma} as it stands after step {@code step} (counted from 1). */
  public record Profile(long step, double gamma) {}

  /**
   * The least-squares combination of input profiles closest to a target profile.
   *
   * @param coefficients one per input, normalised to sum to 1 (as EDM2 does), so that the
   *     combination is a weighted mean of weights
   * @param rawSum what the coefficients summed to before that: near 1 when the inputs span the target
   * @param residual the L2 distance between the combination (normalised coefficients) and the
   *     target, relative to the target's norm
   */
  public record Fit(double[] coefficients, double rawSum, double residual) {}

  /** Eq. 123: sigma_rel = sqrt((gamma + 1) / ((gamma + 2)^2 (gamma + 3))). */
  public static double sigmaRel(double gamma) {
    return Math.sqrt((gamma + 1) / ((gamma + 2) * (gamma + 2) * (gamma + 3)));
  }

  /**
   * Eq. 126 and Algorithm 2: the gamma of {@code sigmaRel}, the one positive root of
   * gamma^3 + 7 gamma^2 + (16 - s^-2) gamma + 12 - s^-2 = 0. sigma_rel falls strictly as gamma
   * grows past 0, so bisection on Eq. 123 finds it, to the last bit.
   */
  public static double gamma(double sigmaRel) {
    check("sigma_rel", sigmaRel);
    double lo = 0;
    double hi = 1;
    while (sigmaRel(hi) > sigmaRel) {
      lo = hi;
      hi *= 2;
    }
    while (true) {
      double mid = 0.5 * (lo + hi);
      if (mid <= lo || mid >= hi) {
        return mid;
      }
      if (sigmaRel(mid) > sigmaRel) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
  }

  /** Refuses a sigma_rel outside (0, {@link #MAX_SIGMA_REL}) under the option name {@code name}. */
  public static void check(String name, double sigmaRel) {
    if (!(sigmaRel > 0 && sigmaRel < MAX_SIGMA_REL)) {
      throw new IllegalArgumentException(String.format(Locale.ROOT, "%s = %s must be in (0, %.6f), below sqrt(1/12):"
          + " a power-function EMA's sigma_rel reaches sqrt(1/12) as its exponent gamma falls to 0", name, sigmaRel,
          MAX_SIGMA_REL));
    }
  }

  /**
   * 1 - beta_t, beta_t = (1 - 1/t)^(gamma + 1) (Eq. 127 with one step per unit of time): the
   * weight of step t's weights in the update ema += (1 - beta_t) (online - ema). Computed as
   * -expm1((gamma + 1) log1p(-1/t)) because late in a run it is ~(gamma + 1) / t, and 1 - beta
   * taken from beta would lose its leading digits.
   */
  public static double updateWeight(double gamma, long t) {
    return updateWeight(gamma, t, 1);
  }

  /**
   * The weight of one update standing for the {@code steps} steps t - steps + 1 .. t: 1 minus
   * their betas' product, which telescopes to (1 - steps/t)^(gamma + 1); 1 when they include step 1.
   */
  public static double updateWeight(double gamma, long t, long steps) {
    if (t < 1) {
      throw new IllegalArgumentException("step " + t + ": power-function EMA steps count from 1");
    }
    return t <= steps ? 1 : -Math.expm1((gamma + 1) * Math.log1p(-(double) steps / t));
  }

  /** Eq. 151 (Algorithm 3's p_dot_p): the inner product of two profiles' weighting functions over time. */
  public static double innerProduct(Profile a, Profile b) {
    double ta = a.step();
    double tb = b.step();
    double ratio = ta < tb ? Math.pow(ta / tb, b.gamma()) : Math.pow(tb / ta, a.gamma());
    return (a.gamma() + 1) * (b.gamma() + 1) * ratio / ((a.gamma() + b.gamma() + 1) * Math.max(ta, tb));
  }

  /**
   * Algorithm 3: the coefficients x minimising the L2 distance between sum_i x_i p_i and the
   * target, from the normal equations A x = b with A_ij = (p_i, p_j) and b_i = (p_i, target).
   */
  public static Fit solve(List<Profile> inputs, Profile target) {
    int n = inputs.size();
    if (n == 0) {
      throw new IllegalArgumentException("no input profiles to combine");
    }
    double[][] a = new double[n][n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        a[i][j] = innerProduct(inputs.get(i), inputs.get(j));
      }
      b[i] = innerProduct(inputs.get(i), target);
    }
    double[] x = solveLinear(copy(a), b.clone());
    double sum = 0;
    for (double v : x) {
      sum += v;
    }
    for (int i = 0; i < n; i++) {
      x[i] /= sum;
    }
    // |sum x_i p_i - target|^2 = x'Ax - 2 x'b + (target, target)
    double squared = innerProduct(target, target);
    for (int i = 0; i < n; i++) {
      double ax = 0;
      for (int j = 0; j < n; j++) {
        ax += a[i][j] * x[j];
      }
      squared += x[i] * (ax - 2 * b[i]);
    }
    return new Fit(x, sum, Math.sqrt(Math.max(squared, 0) / innerProduct(target, target)));
  }

  /** Gaussian elimination with partial pivoting (as numpy's solve); {@code a} and {@code b} are overwritten. */
  private static double[] solveLinear(double[][] a, double[] b) {
    int n = b.length;
    for (int k = 0; k < n; k++) {
      int pivot = k;
      for (int i = k + 1; i < n; i++) {
        if (Math.abs(a[i][k]) > Math.abs(a[pivot][k])) {
          pivot = i;
        }
      }
      if (a[pivot][k] == 0) {
        throw new IllegalArgumentException("the input profiles are linearly dependent (the same step and sigma_rel"
            + " twice?): their combination is not unique");
      }
      double[] row = a[k];
      a[k] = a[pivot];
      a[pivot] = row;
      double t = b[k];
      b[k] = b[pivot];
      b[pivot] = t;
      for (int i = k + 1; i < n; i++) {
        double f = a[i][k] / a[k][k];
        for (int j = k; j < n; j++) {
          a[i][j] -= f * a[k][j];
        }
        b[i] -= f * b[k];
      }
    }
    double[] x = new double[n];
    for (int i = n - 1; i >= 0; i--) {
      double s = b[i];
      for (int j = i + 1; j < n; j++) {
        s -= a[i][j] * x[j];
      }
      x[i] = s / a[i][i];
    }
    return x;
  }

  private static double[][] copy(double[][] a) {
    double[][] c = new double[a.length][];
    for (int i = 0; i < a.length; i++) {
      c[i] = a[i].clone();
    }
    return c;
  }
}
