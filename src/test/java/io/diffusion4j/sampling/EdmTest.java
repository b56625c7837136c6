package io.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.ElucidatedDiffusion;
import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.Network;
import io.diffusion4j.models.Unet;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** ElucidatedDiffusion against the formulas of Karras et al. 2022 and an analytic denoiser. */
class EdmTest {
  static final ElucidatedDiffusionConfig SEQ = ElucidatedDiffusionConfig.builder(8).channels(1).build();

  static ElucidatedDiffusion edm(Ops tf, ElucidatedDiffusionConfig c) {
    return new ElucidatedDiffusion(
        Unet.create(tf, UnetConfig.builder1d(8).dimMults(1, 2).channels(1).learnedSinusoidalCond(true).build()), c);
  }

  /** EDM Table 1 with sigma_data = 0.5, at several sigmas. */
  @Test
  void preconditioningFollowsTable1() {
    try (Graph g = new Graph()) {
      ElucidatedDiffusion d = edm(Ops.create(g), SEQ);
      for (double s : new double[] {0.002, 0.1, 0.5, 2, 80}) {
        double sd = 0.5;
        assertEquals(sd * sd / (s * s + sd * sd), d.cSkip(s), 1e-12);
        assertEquals(s * sd / Math.sqrt(s * s + sd * sd), d.cOut(s), 1e-12);
        assertEquals(1 / Math.sqrt(s * s + sd * sd), d.cIn(s), 1e-12);
        assertEquals(0.25 * Math.log(s), d.cNoise(s), 1e-12);
        assertEquals((s * s + sd * sd) / (s * s * sd * sd), d.lossWeight(s), 1e-9 * d.lossWeight(s));
        // the weight makes the effective target variance one: lambda c_out^2 = 1
        assertEquals(1, d.lossWeight(s) * d.cOut(s) * d.cOut(s), 1e-12);
      }
      assertEquals(0.5, d.cSkip(0.5), 1e-12);
      assertEquals(8, d.lossWeight(0.5), 1e-12);
    }
  }

  /** Eq. 5: sigma_max first, sigma_min last, then 0, evenly spaced in sigma^(1/rho). */
  @Test
  void sigmaScheduleHasTheRightEndsAndCurvature() {
    try (Graph g = new Graph()) {
      ElucidatedDiffusion d = edm(Ops.create(g), SEQ);
      double[] s = d.sampleSchedule(18);
      assertEquals(19, s.length);
      assertEquals(80, s[0], 1e-9);
      assertEquals(0.002, s[17], 1e-12);
      assertEquals(0, s[18], 0);
      double step = Math.pow(s[1], 1 / 7.0) - Math.pow(s[0], 1 / 7.0);
      for (int i = 1; i < 18; i++) {
        assertEquals(step, Math.pow(s[i], 1 / 7.0) - Math.pow(s[i - 1], 1 / 7.0), 1e-12, "rho spacing at " + i);
        assertTrue(s[i] < s[i - 1]);
      }
      // rho 7 crowds the steps at low noise: the last gap is far smaller than the first
      assertTrue(s[0] - s[1] > 1000 * (s[16] - s[17]));
    }
  }

  /** Algorithm 2: gamma = min(S_churn / N, sqrt(2) - 1) inside [S_tmin, S_tmax], 0 outside. */
  @Test
  void churnOnlyActsInsideItsRange() {
    try (Graph g = new Graph()) {
      ElucidatedDiffusion d = edm(Ops.create(g), SEQ);
      double[] s = d.sampleSchedule(32);
      double[] gamma = d.churn(s);
      for (int i = 0; i < s.length; i++) {
        boolean inside = s[i] >= 0.05 && s[i] <= 50;
        assertEquals(inside ? Math.min(80.0 / 32, Math.sqrt(2) - 1) : 0, gamma[i], 0, "sigma " + s[i]);
      }
      assertTrue(gamma[0] == 0 && gamma[32] == 0);
    }
  }

  /**
   * With S_churn 0 Heun (and Euler, and DPM-Solver++) are deterministic; with churn, seeds
   * matter only when a noise level falls inside [S_tmin, S_tmax].
   */
  @Test
  void heunWithoutChurnIsDeterministicAndChurnOnlyActsInRange() {
    ModelConfig noChurn = config(ElucidatedDiffusionConfig.builder(8).channels(1).numSampleSteps(6).sChurn(0).build());
    ModelConfig churnOutOfRange = config(ElucidatedDiffusionConfig.builder(8).channels(1).numSampleSteps(6)
        .sTmin(100).sTmax(200).build());
    ModelConfig churn = config(ElucidatedDiffusionConfig.builder(8).channels(1).numSampleSteps(6).build());
    assertArrayEquals(sample(noChurn, Sampler.HEUN, 1), sample(noChurn, Sampler.HEUN, 2));
    assertArrayEquals(sample(noChurn, Sampler.EULER, 1), sample(noChurn, Sampler.EULER, 2));
    assertArrayEquals(sample(churn, Sampler.DPMPP, 1), sample(churn, Sampler.DPMPP, 2));
    assertArrayEquals(sample(churnOutOfRange, Sampler.HEUN, 1), sample(churnOutOfRange, Sampler.HEUN, 2));
    assertArrayEquals(sample(churn, Sampler.HEUN, 1), sample(churn, Sampler.HEUN, 1));
    assertFalse(java.util.Arrays.equals(sample(churn, Sampler.HEUN, 1), sample(churn, Sampler.HEUN, 2)));
  }

  static ModelConfig config(ElucidatedDiffusionConfig c) {
    return new ModelConfig(UnetConfig.builder1d(8).dimMults(1, 2).channels(1).learnedSinusoidalCond(true).build(), c);
  }

  /** Samples from fixed start noise with the given step seed. */
  static float[] sample(ModelConfig config, Sampler sampler, long seed) {
    try (DiffusionModel m = DiffusionModel.create(config, 3)) {
      DiffusionSampler s = m.sampler();
      return s.sample(sampler, s.initialNoise(4, 0), seed, 6, 0, null, null).data();
    }
  }

  @Test
  void refusesAUnetWithoutContinuousTime() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Network plain = Unet.create(tf, UnetConfig.builder1d(8).dimMults(1, 2).channels(1).build());
      var e = assertThrows(IllegalArgumentException.class, () -> new ElucidatedDiffusion(plain, SEQ));
      assertTrue(e.getMessage().contains("learned_sinusoidal_cond or random_fourier_features"), e.getMessage());
    }
  }

  /**
   * For data ~ N(mu, s^2) per value, the ideal denoiser is D(x; sigma) = mu + s^2 / (s^2 + sigma^2)
   * (x - mu), and the probability-flow ODE carries N(mu, s^2 + sigma_max^2) to N(mu, s^2). A test
   * network makes the preconditioned output exactly that denoiser. Each sampler must land within 4
   * standard errors of the mean and 5% of the spread (4000 values) in 32 steps (Euler, first
   * order, in 100). The remaining error is the discretisation's: an independent scalar computation
   * of the same schedule gives spread ratios 1.021 (Heun), 1.022 (DPM-Solver++) and 0.968 (Euler).
   */
  @ParameterizedTest
  @EnumSource(value = Sampler.class, names = {"HEUN", "DPMPP", "EULER"})
  void samplersConvergeOnAnAnalyticDenoiser(Sampler sampler) {
    double mu = 0.3;
    double s = 0.2;
    int steps = sampler == Sampler.EULER ? 100 : 32;
    ElucidatedDiffusionConfig c = ElucidatedDiffusionConfig.builder(8).channels(1).sChurn(0).build();
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      ElucidatedDiffusion d = new ElucidatedDiffusion(new GaussianDataDenoiser(tf, c, mu, s), c);
      DiffusionSampler sam = Samplers.create(tf, session, d);
      FloatArray out = sam.sample(sampler, sam.initialNoise(500, 7), 7, steps, 0, null, null);
      double mean = 0;
      double var = 0;
      for (float v : out.data()) {
        mean += (2 * v - 1) / out.data().length;
      }
      for (float v : out.data()) {
        var += Math.pow(2 * v - 1 - mean, 2) / out.data().length;
      }
      assertEquals(mu, mean, 4 * s / Math.sqrt(out.data().length), sampler + " mean");
      assertEquals(s, Math.sqrt(var), 0.05 * s, sampler + " spread");
    }
  }

  /** A "network" whose preconditioned output is the ideal denoiser of N(mu, s^2) data. */
  static final class GaussianDataDenoiser implements Network {
    private final ElucidatedDiffusionConfig c;
    private final double mu;
    private final double s;
    private final Parameters none;

    GaussianDataDenoiser(Ops tf, ElucidatedDiffusionConfig c, double mu, double s) {
      this.c = c;
      this.mu = mu;
      this.s = s;
      this.none = new Parameters(tf);
    }

    public int channels() { return 1; }
    public int outDim() { return 1; }
    public int spatialRank() { return 1; }
    public boolean selfCondition() { return false; }
    public TimeInput timeInput() { return TimeInput.CONTINUOUS; }
    public Parameters parameters() { return none; }
    public void checkSpatialSize(long[] spatial) {}

    @Override
    public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> input, Operand<TFloat32> time, Operand<TFloat32> selfCond,
        Operand<TInt64> classLabels, Forward fwd) {
      // time = c_noise = ln(sigma) / 4
      Operand<TFloat32> sigma = tf.reshape(tf.math.exp(tf.math.mul(time, tf.constant(4f))), tf.constant(new long[] {-1, 1, 1}));
      Operand<TFloat32> sd2 = tf.constant((float) (c.sigmaData() * c.sigmaData()));
      Operand<TFloat32> total = tf.math.add(tf.math.square(sigma), sd2);
      Operand<TFloat32> x = tf.math.mul(input, tf.math.sqrt(total));
      Operand<TFloat32> s2 = tf.constant((float) (s * s));
      Operand<TFloat32> ideal = tf.math.add(tf.constant((float) mu), tf.math.mul(
          tf.math.div(s2, tf.math.add(s2, tf.math.square(sigma))), tf.math.sub(x, tf.constant((float) mu))));
      Operand<TFloat32> cSkip = tf.math.div(sd2, total);
      Operand<TFloat32> cOut = tf.math.mul(tf.math.mul(sigma, tf.constant((float) c.sigmaData())), tf.math.rsqrt(total));
      return tf.math.div(tf.math.sub(ideal, tf.math.mul(cSkip, x)), cOut);
    }
  }
}
