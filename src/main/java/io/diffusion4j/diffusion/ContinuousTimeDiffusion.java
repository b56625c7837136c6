package io.diffusion4j.diffusion;

import io.diffusion4j.diffusion.SamplingDefaults.Procedure;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Value;
import java.util.Arrays;
import java.util.Set;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Gaussian diffusion in continuous time (Kingma et al. 2021): x_t = alpha_t x0 + sigma_t eps
 * with alpha_t^2 = sigmoid(log_snr(t)), trained at uniform t in [0, 1) with the network fed
 * log_snr(t), and sampled ancestrally at times evenly spaced from 1 to 0. The reference's
 * ContinuousTimeGaussianDiffusion, VParamContinuousTimeGaussianDiffusion and simple diffusion's
 * GaussianDiffusion are this with the objective, schedule and loss weight of
 * {@link ContinuousTimeConfig}.
 *
 * <p>In the sigma view it is the {@link VariancePreserving} denoiser at sigma = exp(-log_snr / 2),
 * its network fed log-SNR -2 log(sigma); the reference's ancestral step is DDPM's posterior step
 * between two such levels, so its own sampler is the catalogue's {@code ddpm} on its own levels
 * (which ends at sigma 0 where the reference stops at t = 0, a level whose sigma is 1e-2 for the
 * linear schedule).
 */
public final class ContinuousTimeDiffusion extends VariancePreserving {
  private final Network network;
  private final ContinuousTimeConfig config;
  private final Objective objective;
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
    this.objective = config.objective() == ContinuousTimeConfig.PredObjective.V ? Objective.PRED_V : Objective.PRED_NOISE;
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
    Value padded = Value.of(tf, Diffusion.perExample(tf, logSnr, config.spatialRank()));
    // alpha^2 = sigmoid(log_snr), s^2 = sigmoid(-log_snr)
    Value alpha = padded.sigmoid().sqrt();
    Value s = padded.neg().sigmoid().sqrt();
    Value start = Value.of(tf, x0);
    Value eps = Value.of(tf, noise);
    Value xt = start.times(alpha).plus(eps.times(s));
    Value out = Value.of(tf, network.apply(tf, xt.operand(), logSnr, null, classLabels, fwd));
    Value losses = Losses.meanSquaredError(out, objective.target(start, eps, alpha, s));
    Value weight = lossWeight(Value.of(tf, logSnr));
    return weight == null ? losses.operand() : losses.times(weight).operand();
  }

  /**
   * min-SNR-gamma (Hang et al. 2023) where the config asks: clip(snr) / snr for eps, clip(snr) /
   * (snr + 1) for v, and without it 1 for eps; for v, simple diffusion weights by snr / (snr + 1)
   * where VParamContinuousTimeGaussianDiffusion leaves the loss unweighted (null: unweighted).
   */
  private Value lossWeight(Value logSnr) {
    boolean v = objective == Objective.PRED_V;
    if (config.kind() == ContinuousTimeConfig.Kind.V_PARAM || (!v && !config.minSnrLossWeight())) {
      return null;
    }
    Value snr = logSnr.exp();
    Value clipped = config.minSnrLossWeight() ? snr.min(config.minSnrGamma()) : snr;
    return clipped.div(v ? snr.plus(1) : snr);
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

  /** The reference samples ancestrally (its p_sample), num_sample_steps steps, clamping as clip_sample_denoised says. */
  @Override
  public SamplingDefaults samplingDefaults() {
    return new SamplingDefaults(Procedure.DDPM, config.sampler(), config.numSampleSteps(), 0, null,
        config.clipSampleDenoised(), Set.of(), false);
  }

  @Override
  Reading reading() {
    return objective;
  }

  /** Log-SNR -2 log(sigma). */
  @Override
  Operand<TFloat32> networkTime(Ops tf, Operand<TFloat32> sigma) {
    return Value.of(tf, sigma).log().times(-2).operand();
  }
}
