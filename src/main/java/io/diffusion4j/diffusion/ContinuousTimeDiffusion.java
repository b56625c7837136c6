package io.diffusion4j.diffusion;

import io.diffusion4j.diffusion.SamplingDefaults.Procedure;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Forward;
import java.util.Arrays;
import java.util.Set;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Gaussian diffusion in continuous time (Kingma et al. 2021): x_t = alpha_t x0 + sigma_t eps
 * with alpha_t^2 = sigmoid(log_snr(t)), trained at uniform t in [0, 1) with the network fed
 * log_snr(t), and sampled ancestrally at times evenly spaced from 1 to 0. The reference's
 * ContinuousTimeGaussianDiffusion, VParamContinuousTimeGaussianDiffusion and simple diffusion's
 * GaussianDiffusion are this with the objective, schedule and loss weight of
 * {@link ContinuousTimeConfig}.
 *
 * <p>In the sigma view, sigma = exp(-log_snr / 2) and the network sees x / sqrt(1 + sigma^2), as
 * for discrete Gaussian diffusion; the reference's ancestral step is DDPM's posterior step
 * between two such levels, so its own sampler is the catalogue's {@code ddpm} on its own levels
 * (which ends at sigma 0 where the reference stops at t = 0, a level whose sigma is 1e-2 for the
 * linear schedule).
 */
public final class ContinuousTimeDiffusion implements Diffusion {
  private final Network network;
  private final ContinuousTimeConfig config;
  private final LogSnrSchedule schedule;

  public ContinuousTimeDiffusion(Network network, ContinuousTimeConfig config) {
    String type = config.type();
    if (network.spatialRank() != config.spatialRank()) {
      throw new IllegalArgumentException(type + " of size " + Arrays.toString(config.size())
          + " needs a network of spatial rank " + config.spatialRank() + ", got one of rank " + network.spatialRank());
    }
    if (network.channels() != config.channels() || network.outDim() != config.channels()) {
      throw new IllegalArgumentException(type + " has channels = " + config.channels() + " but the network takes "
          + network.channels() + " and returns " + network.outDim());
    }
    if (network.timeInput() == Network.TimeInput.DISCRETE) {
      throw new IllegalArgumentException(type + " feeds the network log-SNR, a continuous noise level: a Unet needs"
          + " learned_sinusoidal_cond or random_fourier_features for it");
    }
    if (network.selfCondition()) {
      throw new IllegalArgumentException(type + " does not take a self-conditioned network (nor does the reference):"
          + " set self_condition false");
    }
    network.checkSpatialSize(Arrays.stream(config.size()).asLongStream().toArray());
    this.network = network;
    this.config = config;
    this.schedule = config.schedule(network.parameters().scope().child("log_snr"));
  }

  @Override
  public Network network() {
    return network;
  }

  @Override
  public ContinuousTimeConfig config() {
    return config;
  }

  public LogSnrSchedule schedule() {
    return schedule;
  }

  @Override
  public void attach(Session session) {
    if (schedule instanceof LearnedNoiseSchedule learned) {
      learned.attach(session);
    }
  }

  /** The regression loss of each example at given times in [0, 1) and noise (the reference's p_losses). */
  public Operand<TFloat32> pLosses(Ops tf, Operand<TFloat32> x0, Operand<TFloat32> times, Operand<TFloat32> noise,
      Operand<TInt64> classLabels, Forward fwd) {
    Operand<TFloat32> logSnr = schedule.apply(tf, times);
    Operand<TFloat32> padded = Diffusion.perExample(tf, logSnr, config.spatialRank());
    Operand<TFloat32> alpha = tf.math.sqrt(tf.math.sigmoid(padded));
    Operand<TFloat32> sigma = tf.math.sqrt(tf.math.sigmoid(tf.math.neg(padded)));
    Operand<TFloat32> x = tf.math.add(tf.math.mul(x0, alpha), tf.math.mul(noise, sigma));
    Operand<TFloat32> out = network.apply(tf, x, logSnr, null, classLabels, fwd);
    boolean v = config.objective() == ContinuousTimeConfig.PredObjective.V;
    Operand<TFloat32> target = v ? tf.math.sub(tf.math.mul(alpha, noise), tf.math.mul(sigma, x0)) : noise;
    Operand<TFloat32> losses = Losses.meanPerExample(tf, tf.math.squaredDifference(out, target));
    Operand<TFloat32> weight = lossWeight(tf, logSnr, v);
    return weight == null ? losses : tf.math.mul(losses, weight);
  }

  /**
   * min-SNR-gamma (Hang et al. 2023) where the config asks: clip(snr) / snr for eps, clip(snr) /
   * (snr + 1) for v, and without it 1 for eps; for v, simple diffusion weights by snr / (snr + 1)
   * where VParamContinuousTimeGaussianDiffusion leaves the loss unweighted (null: unweighted).
   */
  private Operand<TFloat32> lossWeight(Ops tf, Operand<TFloat32> logSnr, boolean v) {
    if (config.kind() == ContinuousTimeConfig.Kind.V_PARAM || (!v && !config.minSnrLossWeight())) {
      return null;
    }
    Operand<TFloat32> snr = tf.math.exp(logSnr);
    Operand<TFloat32> clipped = config.minSnrLossWeight() ? tf.math.minimum(snr, tf.constant((float) config.minSnrGamma())) : snr;
    return tf.math.div(clipped, v ? tf.math.add(snr, tf.constant(1f)) : snr);
  }

  @Override
  public Operand<TFloat32> losses(Ops tf, Operand<TFloat32> images, Operand<TInt64> classLabels, Operand<TInt64> seed,
      BatchWindow window, boolean selfConditionStep, Forward fwd) {
    if (selfConditionStep) {
      throw new IllegalArgumentException("self-conditioning step asked of a network built with self_condition=False");
    }
    TrainingDraws draws = new TrainingDraws(tf, seed, window, sampleShape());
    return pLosses(tf, normalize(tf, images), draws.uniform(1), draws.noiseLikeExamples(2), classLabels, fwd);
  }


  // the sigma view

  private static double sigmaOf(double logSnr) {
    return Math.exp(-0.5 * logSnr);
  }

  @Override
  public double sigmaMin() {
    return sigmaOf(schedule.ends()[0]);
  }

  @Override
  public double sigmaMax() {
    return sigmaOf(schedule.ends()[1]);
  }

  /** The reference's times, torch.linspace(1, 0, steps + 1) in float32, but the last, as noise levels; then 0. */
  @Override
  public double[] ownSigmas(int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("sampling steps = " + steps + " must be at least 1");
    }
    double[] times = new double[steps];
    float step = -1f / steps;
    for (int i = 0; i < steps; i++) {
      // torch's CPU linspace: the first half counted from the start, the second from the end
      times[i] = i < (steps + 1) / 2 ? 1f + step * i : 0f - step * (steps - i);
    }
    double[] logSnr = schedule.at(times);
    double[] sigmas = new double[steps + 1];
    for (int i = 0; i < steps; i++) {
      sigmas[i] = sigmaOf(logSnr[i]);
    }
    return sigmas;
  }

  @Override
  public double startScale(double sigma) {
    return Math.sqrt(1 + sigma * sigma);
  }

  /** The reference samples ancestrally (its p_sample), num_sample_steps steps, clamping as clip_sample_denoised says. */
  @Override
  public SamplingDefaults samplingDefaults() {
    return new SamplingDefaults(Procedure.DDPM, config.sampler(), config.numSampleSteps(), 0, null,
        config.clipSampleDenoised(), Set.of(), false);
  }

  /**
   * x0 from the network's output at x / sqrt(1 + sigma^2) and log-SNR -2 log(sigma), with
   * {@code clamp} clamped to [-1, 1] (the run's setting, which clip_sample_denoised defaults).
   */
  @Override
  public Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning c,
      boolean clamp) {
    Operand<TFloat32> cIn = tf.math.rsqrt(tf.math.add(tf.constant(1f), tf.math.square(sigma)));
    Operand<TFloat32> xt = tf.math.mul(x, cIn);
    Operand<TInt32> batch = tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    Operand<TFloat32> logSnr = tf.math.mul(tf.constant(-2f), tf.math.log(sigma));
    Operand<TFloat32> out = Guidance.evaluate(tf, network, xt, tf.fill(batch, logSnr), c, Forward.inference()).out();
    Operand<TFloat32> x0 = config.objective() == ContinuousTimeConfig.PredObjective.V
        // x0 = alpha x_t - sigma_t v, with alpha = cIn and sigma_t = sigma cIn
        ? tf.math.mul(cIn, tf.math.sub(xt, tf.math.mul(sigma, out)))
        : tf.math.sub(x, tf.math.mul(sigma, out));
    return clamp ? tf.clipByValue(x0, tf.constant(-1f), tf.constant(1f)) : x0;
  }
}
