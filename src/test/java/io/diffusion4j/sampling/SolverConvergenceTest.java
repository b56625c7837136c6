package io.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Statistical;
import io.diffusion4j.io.FloatArray;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * Every solver against the exact denoiser of Gaussian data ({@link GaussianData}), whose
 * probability-flow ODE has a closed-form solution: at eta 0 each converges at the rate its order
 * predicts, and with its noise each samples the data's distribution.
 */
class SolverConvergenceTest {
  /** Data N(0.2, 1) between sigma 0.01 and 10, on Karras' schedule: orders 1 and 2 are asymptotic by 8 steps. */
  static final GaussianData SMOOTH = new GaussianData(0.2, 1, 4, 0.01, 10);
  static final int[] SMOOTH_STEPS = {8, 12, 16, 24, 32};
  /**
   * Data N(0.3, 0.25) between EDM's 0.002 and 80, on the exponential schedule: errors large
   * enough for third order to show above float32's floor (about 1e-6 of sigma_max).
   */
  static final GaussianData WIDE = new GaussianData(0.3, 0.5, 4);
  static final int[] WIDE_STEPS = {16, 24, 32, 48, 64};

  static Graph graph;
  static Session session;
  static SessionDriver smooth;
  static SessionDriver wide;

  @BeforeAll
  static void drivers() {
    graph = new Graph();
    session = new Session(graph);
    Ops tf = Ops.create(graph);
    smooth = new SessionDriver(tf.withSubScope("smooth"), session, SMOOTH);
    wide = new SessionDriver(tf.withSubScope("wide"), session, WIDE);
  }

  @AfterAll
  static void close() {
    session.close();
    graph.close();
  }

  static Stream<Solver<?, ?>> solvers() {
    return Solvers.all().stream();
  }

  /**
   * The error of the sample started at x = sigma_max falls as K^-p with the number of steps K:
   * the least-squares slope of log error against log K is within [order - 0.25, order + 0.45].
   * Third-order methods warm up with lower-order steps, which cap them at second order
   * asymptotically; over these step counts they show at least 2.4.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("solvers")
  void convergesAtItsOrder(Solver<?, ?> solver) {
    boolean third = solver.order() == 3;
    GaussianData d = third ? WIDE : SMOOTH;
    int[] steps = third ? WIDE_STEPS : SMOOTH_STEPS;
    Schedule schedule = third ? Schedule.EXPONENTIAL : Schedule.KARRAS;
    double[] errors = new double[steps.length];
    FloatArray start = new FloatArray(new long[] {1, 4, 1}, new float[] {1, 1, 1, 1});
    for (int i = 0; i < steps.length; i++) {
      Settings s = Settings.of(d, solver, steps[i], schedule, 0.0, null, 0);
      float[] out = (third ? wide : smooth).sample(s, start, null).data();
      errors[i] = Math.abs(out[0] - d.exact(d.sigmaMax())) / (d.sigmaMax() - d.mu());
    }
    double p = slope(steps, errors);
    String report = solver.name() + ": errors " + Arrays.toString(errors) + " at steps " + Arrays.toString(steps)
        + ", order " + p;
    if (third) {
      assertTrue(p >= 2.4 && p <= 3.6, report);
    } else {
      assertTrue(p >= solver.order() - 0.25 && p <= solver.order() + 0.45, report);
    }
  }

  /**
   * With its noise (eta 1; S_churn 10 for the solvers that churn) each samples N(mu, s^2), in 64
   * steps (256 for first-order methods, whose spread is 5-10% short at 64: their bias is first order
   * too). H0 for 32,768 values: independent normal, mean mu (the updates are affine about mu, so a
   * solver's discretisation leaves the mean alone), spread within 3% of s (its discretisation bias).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("solvers")
  void samplesTheDataDistributionWithItsNoise(Solver<?, ?> solver) {
    GaussianData d = new GaussianData(0.2, 1, 32_768, 0.01, 10);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      SessionDriver driver = new SessionDriver(Ops.create(g), s, d);
      int steps = solver.order() == 1 ? 256 : 64;
      Settings base = Settings.of(d, solver, steps, Schedule.KARRAS, solver.stochastic() ? 1.0 : 0.0, null, 11);
      Settings settings = solver.churns() ? new Settings(solver, steps, Schedule.KARRAS, 0, 1,
          new Settings.Churn(10, 0.05, 50), true, null, 11) : base;
      float[] out = driver.sample(settings, driver.initialNoise(1, 11), null).data();
      Statistical.assertMeanWithin(toDouble(out), d.mu(), 0, solver.name() + " mean");
      Statistical.assertStdWithin(toDouble(out), d.s(), 0.03, solver.name() + " spread");
    }
  }

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  /** The least-squares slope of -log(error) against log(steps). */
  static double slope(int[] steps, double[] errors) {
    int n = steps.length;
    double sx = 0;
    double sy = 0;
    double sxx = 0;
    double sxy = 0;
    for (int i = 0; i < n; i++) {
      double x = Math.log(steps[i]);
      double y = Math.log(errors[i]);
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
    return -(n * sxy - sx * sy) / (n * sxx - sx * sx);
  }
}
