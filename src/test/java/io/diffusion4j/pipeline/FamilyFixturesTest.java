package io.diffusion4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.Close;
import io.diffusion4j.diffusion.Conditioning;
import io.diffusion4j.diffusion.ContinuousTimeDiffusion;
import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.GaussianDiffusion;
import io.diffusion4j.diffusion.NoiseSchedule;
import io.diffusion4j.diffusion.XmWrapper;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solvers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The rest of the reference's diffusion family against its own outputs (see
 * src/test/resources/reference/make_family_fixtures.py): schedules, per-example losses at given
 * (x0, t, noise), the denoised estimate and the samplers.
 */
class FamilyFixturesTest {
  static final Path REF = ReferenceFixturesTest.REF;

  static JsonObject values(Path dir) throws IOException {
    return JsonParser.parseString(Files.readString(dir.resolve("values.json"))).getAsJsonObject();
  }

  static float[] floats(JsonObject json, String key) {
    JsonArray a = json.getAsJsonArray(key);
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).getAsFloat();
    }
    return out;
  }

  static Operand<TFloat32> constant(Ops tf, FloatArray a) {
    return tf.constant(Shape.of(a.shape()), DataBuffers.of(a.data()));
  }

  static float[] run(DiffusionModel m, Operand<TFloat32> value) {
    try (Result r = m.session().runner().fetch(value).run()) {
      return Tensors.toArray((TFloat32) r.get(0)).data();
    }
  }

  /** Relative to the magnitude of each expected value, at least 1. */
  static void assertRelative(float[] expected, float[] actual, double tol) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), "element " + i);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"ct_linear", "ct_cosine_minsnr_noclip", "ct_learned", "vparam", "simple_v_shifted",
      "simple_eps_interpolated"})
  void continuousTimeMatchesReference(String name) throws IOException {
    Path dir = REF.resolve(name);
    JsonObject v = values(dir);
    float[] times = floats(v, "times");
    try (DiffusionModel m = DiffusionModel.load(dir, DiffusionModel.Weights.MODEL)) {
      ContinuousTimeDiffusion d = (ContinuousTimeDiffusion) m.diffusion().orElseThrow();
      Ops tf = m.ops();
      // the schedule, in the graph and in Java
      assertRelative(floats(v, "log_snr"), run(m, d.schedule().apply(tf, tf.constant(times))), 1e-5);
      double[] java = d.schedule().at(new double[] {times[0], times[1], times[2]});
      assertRelative(floats(v, "log_snr"), new float[] {(float) java[0], (float) java[1], (float) java[2]}, 1e-5);
      double[] ends = d.schedule().ends();
      assertRelative(floats(v, "log_snr_ends"), new float[] {(float) ends[0], (float) ends[1]}, 1e-5);
      // the per-example losses at given times and noise
      Operand<TFloat32> losses = d.pLosses(tf, constant(tf, Npy.read(dir.resolve("x0.npy"))), tf.constant(times),
          constant(tf, Npy.read(dir.resolve("noise.npy"))), null, Forward.inference());
      assertRelative(floats(v, "losses"), run(m, losses), 1e-4);
      // D(x; sigma) at the sigma of log-SNR l, where x = x_t sqrt(1 + sigma^2)
      double sigma = Math.exp(-0.5 * v.get("denoise_log_snr").getAsDouble());
      Operand<TFloat32> x = tf.math.mul(constant(tf, Npy.read(dir.resolve("x_t.npy"))),
          tf.constant((float) Math.sqrt(1 + sigma * sigma)));
      Operand<TFloat32> denoised = d.denoise(tf, x, tf.constant((float) sigma), new Conditioning(null, null),
          d.config().clipSampleDenoised());
      Close.assertClose(Npy.read(dir.resolve("x_start.npy")).data(), run(m, denoised), 2e-4);
      // the own ancestral sampler with its step noise off (s_noise 0): the reference's p_sample_loop
      // with zero noise, which stops at t = 0 where this one goes on to sigma 0
      var sampler = m.sampler();
      FloatArray samples = sampler.sample(Settings.of(sampler.denoiser(), Solvers.named("ddpm"), 5, null, null, 0.0, 0),
          Npy.read(dir.resolve("start.npy")), null);
      Close.assertClose(Npy.read(dir.resolve("sample_no_step_noise.npy")).data(), samples.data(), 2e-3);
    }
  }

  static int[] ints(JsonObject json, String key) {
    JsonArray a = json.getAsJsonArray(key);
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).getAsInt();
    }
    return out;
  }

  /** Example {@code i} of a batch. */
  static Operand<TFloat32> example(Ops tf, Operand<TFloat32> batch, int i) {
    int rank = batch.shape().numDimensions();
    int[] begin = new int[rank];
    int[] size = new int[rank];
    java.util.Arrays.fill(size, -1);
    begin[0] = i;
    size[0] = 1;
    return tf.slice(batch, tf.constant(begin), tf.constant(size));
  }

  /**
   * Per example at its own timestep: the posterior mean of q(x_{t-1} | x_t, D) the sigma view's
   * estimate gives, and the learned log-variance where the model has one.
   */
  static float[][] meanAndLogVariance(DiffusionModel m, GaussianDiffusion d, FloatArray xt, int[] times) {
    Ops tf = m.ops();
    NoiseSchedule s = d.schedule();
    double[] sigmas = d.sigmas();
    int perExample = Math.toIntExact(xt.data().length / times.length);
    float[] mean = new float[xt.data().length];
    float[] logVariance = new float[xt.data().length];
    for (int i = 0; i < times.length; i++) {
      int t = times[i];
      double sigma = sigmas[t];
      Operand<TFloat32> x = tf.math.mul(example(tf, constant(tf, xt), i), tf.constant((float) Math.sqrt(1 + sigma * sigma)));
      Denoiser.Estimate e = d.estimate(tf, x, tf.constant((float) sigma), new Conditioning(null, null), true);
      float[] x0 = run(m, e.denoised());
      float[] frac = e.varianceFrac() == null ? null : run(m, e.varianceFrac());
      for (int j = 0; j < perExample; j++) {
        int k = i * perExample + j;
        mean[k] = (float) (s.posteriorMeanCoef1[t] * x0[j] + s.posteriorMeanCoef2[t] * xt.data()[k]);
        if (frac != null) {
          logVariance[k] = (float) (frac[j] * Math.log(s.betas[t]) + (1 - frac[j]) * s.posteriorLogVarianceClipped[t]);
        }
      }
    }
    return new float[][] {mean, logVariance};
  }

  static float[] losses(DiffusionModel m, GaussianDiffusion d, Path dir, int[] times) throws IOException {
    Ops tf = m.ops();
    return run(m, d.pLossesPerExample(tf, constant(tf, Npy.read(dir.resolve("x0.npy"))), tf.constant(times),
        constant(tf, Npy.read(dir.resolve("noise.npy"))), null, false, Forward.inference()));
  }

  @Test
  void learnedGaussianDiffusionMatchesReference() throws IOException {
    Path dir = REF.resolve("learned_gaussian");
    JsonObject v = values(dir);
    int[] times = ints(v, "times");
    try (DiffusionModel m = DiffusionModel.load(dir, DiffusionModel.Weights.MODEL)) {
      GaussianDiffusion d = (GaussianDiffusion) m.diffusion().orElseThrow();
      // the hybrid loss, t = 0 taking the decoder's NLL
      assertRelative(floats(v, "losses"), losses(m, d, dir, times), 2e-4);
      float[][] mv = meanAndLogVariance(m, d, Npy.read(dir.resolve("x_t.npy")), times);
      Close.assertClose(Npy.read(dir.resolve("model_mean.npy")).data(), mv[0], 2e-4);
      Close.assertClose(Npy.read(dir.resolve("model_log_variance.npy")).data(), mv[1], 2e-4);
      var sampler = m.sampler();
      FloatArray start = Npy.read(dir.resolve("start.npy"));
      FloatArray ddim = sampler.sample(Settings.of(sampler.denoiser(), Solvers.named("ddim"), 4, null, 0.0, null, 0),
          start, null);
      // the reference's model_predictions ignores rederive_pred_noise; here the noise is re-derived as for every model
      Close.assertClose(Npy.read(dir.resolve("ddim_rederived.npy")).data(), ddim.data(), 1e-3);
      FloatArray ddpm = sampler.sample(Settings.of(sampler.denoiser(), Solvers.named("ddpm"), null, null, null, 0.0, 0),
          start, null);
      Close.assertClose(Npy.read(dir.resolve("ddpm_no_step_noise.npy")).data(), ddpm.data(), 1e-3);
    }
  }

  @Test
  void weightedObjectiveMatchesReference() throws IOException {
    Path dir = REF.resolve("weighted_objective");
    JsonObject v = values(dir);
    int[] times = ints(v, "times");
    try (DiffusionModel m = DiffusionModel.load(dir, DiffusionModel.Weights.MODEL)) {
      GaussianDiffusion d = (GaussianDiffusion) m.diffusion().orElseThrow();
      assertRelative(floats(v, "losses"), losses(m, d, dir, times), 2e-4);
      float[][] mv = meanAndLogVariance(m, d, Npy.read(dir.resolve("x_t.npy")), times);
      Close.assertClose(Npy.read(dir.resolve("model_mean.npy")).data(), mv[0], 2e-4);
    }
  }

  /**
   * XMWrapper's loss: the reference's candidates, given in (example, candidate) order, evaluated
   * here candidate by candidate, each example's least loss averaged.
   */
  @Test
  void xmWrapperMatchesReference() throws IOException {
    Path dir = REF.resolve("xm_wrapper");
    JsonObject v = values(dir);
    int[] times = ints(v, "times");
    try (DiffusionModel m = DiffusionModel.load(dir, DiffusionModel.Weights.MODEL)) {
      XmWrapper xm = m.config().wrapper();
      assertEquals(new XmWrapper(3, 4), xm);
      GaussianDiffusion d = (GaussianDiffusion) m.diffusion().orElseThrow();
      Ops tf = m.ops();
      int k = xm.candidates();
      int n = times.length;
      FloatArray noise = Npy.read(dir.resolve("noise.npy"));
      int per = noise.data().length / (n * k);
      float[] candidateMajor = new float[noise.data().length];
      int[] tiledTimes = new int[n * k];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < k; j++) {
          System.arraycopy(noise.data(), (i * k + j) * per, candidateMajor, (j * n + i) * per, per);
          tiledTimes[j * n + i] = times[i];
        }
      }
      long[] shape = noise.shape().clone();
      Operand<TFloat32> images = d.normalize(tf, tf.tile(constant(tf, Npy.read(dir.resolve("images.npy"))),
          tf.constant(new int[] {k, 1, 1, 1})));
      Operand<TFloat32> losses = d.pLossesPerExample(tf, images, tf.constant(tiledTimes),
          tf.constant(Shape.of(shape), DataBuffers.of(candidateMajor)), null, false, Forward.inference());
      assertEquals(v.get("loss").getAsDouble(), run(m, XmWrapper.leastPerExample(tf, losses, k))[0], 1e-5);
    }
  }
}
