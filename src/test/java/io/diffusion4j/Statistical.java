package io.diffusion4j;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Locale;
import org.hipparchus.distribution.continuous.ChiSquaredDistribution;
import org.hipparchus.distribution.continuous.NormalDistribution;
import org.hipparchus.distribution.continuous.TDistribution;
import org.hipparchus.distribution.discrete.BinomialDistribution;

/**
 * Assertions on random outcomes. Each tests a stated null hypothesis H0 and fails, when H0 holds,
 * with probability at most {@link #ALPHA}: its bounds are exact binomial or chi-square quantiles,
 * or normal and t quantiles, never numbers one machine happened to give. Float results differ in
 * the last bits between CPUs (oneDNN picks other kernels), so a seeded test is no more than one
 * draw of its random outcome: these bounds hold for every draw the null allows.
 *
 * <p>A null may allow for an imperfect model ("at a mode with probability at least 0.8"): that
 * tolerance is part of what the test claims, written where the test states it. Where a bound is too
 * loose to mean anything, a test draws more samples.
 */
public final class Statistical {
  /** The false-failure probability of every assertion under its null hypothesis. */
  public static final double ALPHA = 1e-4;

  private Statistical() {}

  /**
   * H0: each of {@code n} independent trials succeeds with probability at least {@code p}. Fails
   * when {@code successes} is below the binomial quantile of {@link #ALPHA} at {@code p}.
   */
  public static void assertRateAtLeast(int successes, int n, double p, String what) {
    int low = lowerBound(n, p, ALPHA);
    check(successes >= low, what, successes + " of " + n + ", below " + low,
        "each of the " + n + " independently with probability >= " + fmt(p));
  }

  /**
   * H0: each of {@code n} independent trials succeeds with probability in [{@code lo}, {@code hi}]
   * ({@link #ALPHA}/2 on each side).
   */
  public static void assertRateWithin(int successes, int n, double lo, double hi, String what) {
    int low = lowerBound(n, lo, ALPHA / 2);
    int high = n - lowerBound(n, 1 - hi, ALPHA / 2);
    check(successes >= low && successes <= high, what, successes + " of " + n + ", outside [" + low + ", " + high + "]",
        "each of the " + n + " independently with probability in [" + fmt(lo) + ", " + fmt(hi) + "]");
  }

  /**
   * H0: the values are independent draws from a normal distribution whose mean is within
   * {@code tolerance} of {@code mu}. Fails when the sample mean is further than
   * {@code tolerance + t * s / sqrt(n)} from it (Student's t with n - 1 degrees of freedom).
   */
  public static void assertMeanWithin(double[] values, double mu, double tolerance, String what) {
    int n = values.length;
    double mean = Arrays.stream(values).average().orElseThrow();
    double sd = Math.sqrt(Arrays.stream(values).map(v -> (v - mean) * (v - mean)).sum() / (n - 1));
    double bound = tolerance + new TDistribution(n - 1).inverseCumulativeProbability(1 - ALPHA / 2) * sd / Math.sqrt(n);
    check(Math.abs(mean - mu) <= bound, what, "mean " + fmt(mean) + ", further than " + fmt(bound) + " from " + fmt(mu),
        n + " independent normal values with mean within " + fmt(tolerance) + " of " + fmt(mu));
  }

  /**
   * H0: a statistic is normal with standard deviation {@code sd} and a mean within
   * {@code tolerance} of {@code mu}. Fails when it is further than {@code tolerance + z * sd} from
   * {@code mu}.
   */
  public static void assertNormalWithin(double value, double mu, double sd, double tolerance, String what) {
    double bound = tolerance + normalQuantile(1 - ALPHA / 2) * sd;
    check(Math.abs(value - mu) <= bound, what, fmt(value) + ", further than " + fmt(bound) + " from " + fmt(mu),
        "normal with standard deviation " + fmt(sd) + " and mean within " + fmt(tolerance) + " of " + fmt(mu));
  }

  /**
   * H0: the values are independent draws from a normal distribution whose standard deviation lies
   * within the factor {@code 1 +- relTolerance} of {@code sigma}. The sample variance is then
   * sigma^2 chi^2(n - 1) / (n - 1); fails outside its quantiles at the ends of that range.
   */
  public static void assertStdWithin(double[] values, double sigma, double relTolerance, String what) {
    int n = values.length;
    double mean = Arrays.stream(values).average().orElseThrow();
    double sd = Math.sqrt(Arrays.stream(values).map(v -> (v - mean) * (v - mean)).sum() / (n - 1));
    ChiSquaredDistribution chi2 = new ChiSquaredDistribution(n - 1);
    double low = sigma * (1 - relTolerance) * Math.sqrt(chi2.inverseCumulativeProbability(ALPHA / 2) / (n - 1));
    double high = sigma * (1 + relTolerance) * Math.sqrt(chi2.inverseCumulativeProbability(1 - ALPHA / 2) / (n - 1));
    check(sd >= low && sd <= high, what, "standard deviation " + fmt(sd) + ", outside [" + fmt(low) + ", " + fmt(high) + "]",
        n + " independent normal values with standard deviation within " + fmt(100 * relTolerance) + "% of "
            + fmt(sigma));
  }

  /** The standard normal quantile of {@code p}. */
  public static double normalQuantile(double p) {
    return new NormalDistribution(0, 1).inverseCumulativeProbability(p);
  }

  /** The largest k with P(X < k) <= alpha for X ~ Binomial(n, p). */
  static int lowerBound(int n, double p, double alpha) {
    if (p <= 0) {
      return 0;
    }
    BinomialDistribution b = new BinomialDistribution(n, Math.min(p, 1));
    // the smallest k with P(X <= k) >= alpha; P(X < k) is then below alpha, P(X < k + 1) not above it only at equality
    int k = b.inverseCumulativeProbability(alpha);
    return b.cumulativeProbability(k) <= alpha ? k + 1 : k;
  }

  /** Prints every outcome beside its bound (in the test reports), so margins can be compared across machines. */
  private static void check(boolean holds, String what, String observed, String nullHypothesis) {
    System.out.println("statistical check " + (holds ? "passed" : "FAILED") + ": " + what + ": "
        + observed.replace(", below", ", bound").replace(", outside", ", bounds").replace(", further than", ", bound"));
    if (!holds) {
      fail(what + ": " + observed + " (H0: " + nullHypothesis + "; false-failure probability under H0 <= "
          + ALPHA + ")");
    }
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4g", v);
  }
}
