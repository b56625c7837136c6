package io.diffusion4j.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.Unet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * q(x_t | x_0) = N(sqrt(abar_t) x0, (1 - abar_t) I): with x0 fixed and 20000 noise draws per
 * timestep the empirical mean and variance of qSample match, within 5 standard errors.
 */
class QSampleTest {
  private static final int T = 100;
  private static final int BATCH = 1250;
  private static final long[] SHAPE = {BATCH, 4, 4, 1};
  /** Two clean values, on alternating elements: 10000 draws each. */
  private static final float[] X0 = {0.8f, -0.5f};

  @ParameterizedTest
  @EnumSource(BetaSchedule.class)
  void meanAndVarianceMatchTheForwardProcess(BetaSchedule schedule) {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      GaussianDiffusion d = new GaussianDiffusion(Unet.create(tf, TinyModels.unet2d(1, false)),
          GaussianDiffusionConfig.builder(4, 4).timesteps(T).betaSchedule(schedule).build());
      NoiseSchedule s = d.schedule();
      FloatArray x0a = FloatArray.zeros(SHAPE);
      for (int i = 0; i < x0a.data().length; i++) {
        x0a.data()[i] = X0[i % 2];
      }
      Operand<TFloat32> x0 = TinyModels.constant(tf, x0a);
      Operand<TFloat32> noise = tf.random.statelessRandomNormal(tf.constant(SHAPE), tf.constant(new long[] {7, 11}));
      int[] times = {0, 5, 50, 99};
      @SuppressWarnings("unchecked")
      Operand<TFloat32>[] samples = new Operand[times.length];
      for (int k = 0; k < times.length; k++) {
        Operand<TInt32> t = tf.fill(tf.constant(new int[] {BATCH}), tf.constant(times[k]));
        samples[k] = d.qSample(tf, x0, t, noise);
      }
      FloatArray[] r = TinyModels.run(session, samples);
      for (int k = 0; k < times.length; k++) {
        int t = times[k];
        double abar = s.alphasCumprod[t];
        for (int group = 0; group < 2; group++) {
          double sum = 0;
          double sumSq = 0;
          int n = 0;
          float[] data = r[k].data();
          for (int i = group; i < data.length; i += 2) {
            sum += data[i];
            n++;
          }
          double mean = sum / n;
          for (int i = group; i < data.length; i += 2) {
            sumSq += (data[i] - mean) * (data[i] - mean);
          }
          double var = sumSq / (n - 1);
          double expectedMean = Math.sqrt(abar) * X0[group];
          double expectedVar = 1 - abar;
          // standard errors: of the mean sqrt(var/n); of the sample variance of a Gaussian var*sqrt(2/(n-1))
          double seMean = Math.sqrt(expectedVar / n);
          double seVar = expectedVar * Math.sqrt(2.0 / (n - 1));
          String at = schedule + " t=" + t + " x0=" + X0[group] + " (n=" + n + ")";
          assertEquals(10000, n);
          // at t = 0 of the linear schedule 1 - abar = 1e-3: the float32 rounding of x_t (~6e-8) is far below 5 SE
          assertEquals(expectedMean, mean, 5 * seMean, "mean " + at);
          assertEquals(expectedVar, var, 5 * seVar, "variance " + at);
        }
      }
      // the draws are real noise, not a constant: the variance is not ~0 at t = 99
      assertTrue(1 - s.alphasCumprod[99] > 0.9, "abar at the end of the chain is near 0");
    }
  }
}
