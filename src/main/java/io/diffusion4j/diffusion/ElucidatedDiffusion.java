package io.diffusion4j.diffusion;

import io.diffusion4j.diffusion.SamplingDefaults.Procedure;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Value;
import java.util.Arrays;
import java.util.Set;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models": the
 * network is wrapped in the preconditioning of Table 1 so that D(x; sigma) denoises at every noise
 * level, trained at log-normal noise levels with the loss weight that makes every level count
 * equally, and sampled along the rho-spaced sigma schedule of Eq. 5. The samplers live in
 * {@code io.diffusion4j.sampling}.
 *
 * <p>It takes any network that embeds a continuous noise level: a Unet built with
 * learned_sinusoidal_cond or random_fourier_features, or the Karras U-Nets (which the Python
 * reference refuses, though EDM2's networks are made for exactly this preconditioning).
 */
public final class ElucidatedDiffusion implements Diffusion {
  private final Network network;
  private final ElucidatedDiffusionConfig config;

  public ElucidatedDiffusion(Network network, ElucidatedDiffusionConfig config) {
    if (network.spatialRank() != config.spatialRank()) {
      throw new IllegalArgumentException("ElucidatedDiffusion of size " + Arrays.toString(config.size())
          + " needs a network of spatial rank " + config.spatialRank() + ", got one of rank " + network.spatialRank());
    }
    if (network.channels() != config.channels() || network.outDim() != config.channels()) {
      throw new IllegalArgumentException("ElucidatedDiffusion has channels = " + config.channels()
          + " but the network takes " + network.channels() + " and returns " + network.outDim());
    }
    if (network.timeInput() == Network.TimeInput.DISCRETE) {
      throw new IllegalArgumentException("ElucidatedDiffusion feeds the network a continuous noise level"
          + " (log(sigma) / 4): a Unet needs learned_sinusoidal_cond or random_fourier_features for it");
    }
    network.checkSpatialSize(Arrays.stream(config.size()).asLongStream().toArray());
    this.network = network;
    this.config = config;
  }

  @Override
  public Network network() {
    return network;
  }

  @Override
  public ElucidatedDiffusionConfig config() {
    return config;
  }

  // Table 1, preconditioning: D(x; sigma) = c_skip x + c_out F(c_in x; c_noise)

  public double cSkip(double sigma) {
    double sd2 = config.sigmaData() * config.sigmaData();
    return sd2 / (sigma * sigma + sd2);
  }

  public double cOut(double sigma) {
    double sd = config.sigmaData();
    return sigma * sd / Math.sqrt(sd * sd + sigma * sigma);
  }

  public double cIn(double sigma) {
    double sd = config.sigmaData();
    return 1 / Math.sqrt(sigma * sigma + sd * sd);
  }

  public double cNoise(double sigma) {
    return Math.log(Math.max(sigma, 1e-20)) * 0.25;
  }

  /** Table 1, lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2. */
  public double lossWeight(double sigma) {
    double sd = config.sigmaData();
    return (sigma * sigma + sd * sd) / Math.pow(sigma * sd, 2);
  }

  /**
   * Eq. 5: N noise levels from sigma_max down to sigma_min, spaced evenly in sigma^(1/rho), then 0.
   */
  public double[] sampleSchedule(int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("sampling steps = " + steps + " must be at least 1");
    }
    double inv = 1 / config.rho();
    double hi = Math.pow(config.sigmaMax(), inv);
    double lo = Math.pow(config.sigmaMin(), inv);
    double[] sigmas = new double[steps + 1];
    for (int i = 0; i < steps; i++) {
      double frac = steps == 1 ? 0 : (double) i / (steps - 1);
      sigmas[i] = Math.pow(hi + frac * (lo - hi), config.rho());
    }
    return sigmas;
  }

  /** Algorithm 2's gamma_i: min(S_churn / N, sqrt(2) - 1) where S_tmin <= sigma_i <= S_tmax, else 0. */
  public double[] churn(double[] sigmas) {
    int n = sigmas.length - 1;
    double gamma = Math.min(config.sChurn() / n, Math.sqrt(2) - 1);
    double[] g = new double[sigmas.length];
    for (int i = 0; i < sigmas.length; i++) {
      g[i] = sigmas[i] >= config.sTmin() && sigmas[i] <= config.sTmax() ? gamma : 0;
    }
    return g;
  }

  /**
   * The preconditioned denoiser D(x; sigma) (Eq. 7), optionally clamped to [-1, 1].
   *
   * @param sigma [N] noise levels
   */
  public Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Operand<TFloat32> selfCond,
      Operand<TInt64> classLabels, boolean clamp, Forward fwd) {
    return denoise(tf, x, sigma, new Conditioning(selfCond, classLabels), clamp, fwd);
  }

  /** As above, guided where {@code c} asks (the network's raw output is guided, as in the reference's Unet). */
  private Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning c,
      boolean clamp, Forward fwd) {
    double sd = config.sigmaData();
    Value s = Value.of(tf, Diffusion.perExample(tf, sigma, config.spatialRank()));
    Value noisy = Value.of(tf, x);
    Value total = s.square().plus(sd * sd);
    Value cSkip = Value.of(tf, sd * sd).div(total);
    Value cOut = s.times(sd).times(total.rsqrt());
    Value cIn = total.rsqrt();
    Value cNoise = Value.of(tf, sigma).max(1e-20).log().times(0.25);
    Value out = Value.of(tf, Guidance.evaluate(tf, network, cIn.times(noisy).operand(), cNoise.operand(), c, fwd).out());
    Value d = cSkip.times(noisy).plus(cOut.times(out));
    return (clamp ? d.clamp(-1, 1) : d).operand();
  }

  /**
   * Noise levels ln(sigma) ~ N(P_mean, P_std^2), x + sigma n denoised back, the squared error weighted
   * by lambda(sigma) and averaged.
   */
  @Override
  public Operand<TFloat32> losses(Ops tf, Operand<TFloat32> images, Operand<TInt64> classLabels, Operand<TInt64> seed,
      BatchWindow window, boolean selfConditionStep, Forward fwd) {
    TrainingDraws draws = new TrainingDraws(tf, seed, window, sampleShape());
    Value sigma = Value.of(tf, draws.normal(1)).times(config.pStd()).plus(config.pMean()).exp();
    Value x0 = Value.of(tf, normalize(tf, images));
    Operand<TFloat32> noised = x0.plus(Value.of(tf, Diffusion.perExample(tf, sigma.operand(), config.spatialRank()))
        .times(Value.of(tf, draws.noiseLikeExamples(2)))).operand();
    Operand<TFloat32> selfCond = null;
    if (selfConditionStep) {
      if (!network.selfCondition()) {
        throw new IllegalArgumentException("self-conditioning step asked of a network built with self_condition=False");
      }
      selfCond = tf.stopGradient(denoise(tf, noised, sigma.operand(), null, classLabels, false, fwd));
    }
    Value denoised = Value.of(tf, denoise(tf, noised, sigma.operand(), selfCond, classLabels, false, fwd));
    double sd2 = config.sigmaData() * config.sigmaData();
    // lambda(sigma) of Table 1
    Value weight = sigma.square().plus(sd2).div(sigma.square().times(sd2));
    return Losses.meanSquaredError(denoised, x0).times(weight).operand();
  }

  // the sigma view

  @Override
  public double sigmaMin() {
    return config.sigmaMin();
  }

  @Override
  public double sigmaMax() {
    return config.sigmaMax();
  }

  @Override
  public double[] ownSigmas(int steps) {
    return sampleSchedule(steps);
  }

  @Override
  public double startScale(double sigma) {
    return sigma;
  }

  /**
   * The reference samples with Heun's method (Algorithm 2), with its churn, x0 clamped; its
   * sample_using_dpmpp calls preconditioned_network_forward with clamp False.
   */
  @Override
  public SamplingDefaults samplingDefaults() {
    return new SamplingDefaults(Procedure.HEUN, config.sampler(), config.numSampleSteps(), 0,
        new SamplingDefaults.Churn(config.sChurn(), config.sTmin(), config.sTmax(), config.sNoise()), true,
        Set.of(Procedure.DPMPP_2M), false);
  }

  /** D(x; sigma) of Eq. 7 for a scalar sigma, optionally clamped to [-1, 1]. */
  @Override
  public Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning c,
      boolean clamp) {
    Operand<TInt32> batch = tf.slice(tf.shape(x), tf.constant(new int[] {0}),
        tf.constant(new int[] {1}));
    return denoise(tf, x, tf.fill(batch, sigma), c, clamp, Forward.inference());
  }
}
