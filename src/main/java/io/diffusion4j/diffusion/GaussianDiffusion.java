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
 * Gaussian diffusion (Ho et al. 2020) over a denoising network, for sequences and images alike:
 * the forward process, the reading of what the network predicts (its {@link GaussianVariant}),
 * and the training loss as one graph. The reverse steps live in {@code io.diffusion4j.sampling},
 * which sees it as a {@link VariancePreserving} denoiser at sigma_t = sqrt((1 - abar_t) / abar_t).
 */
public final class GaussianDiffusion extends VariancePreserving {

  /** The network's output expressed both ways. */
  public record Prediction(Operand<TFloat32> noise, Operand<TFloat32> xStart) {}

  private final Network network;
  private final GaussianDiffusionConfig config;
  private final GaussianVariant variant;
  private final NoiseSchedule schedule;
  private final double[] lossWeight;
  /** sigma_t = sqrt((1 - abar_t) / abar_t), rising with t. */
  private final double[] sigmas;

  public GaussianDiffusion(Network network, GaussianDiffusionConfig config) {
    if (network.spatialRank() != config.spatialRank()) {
      throw new IllegalArgumentException(config.type() + " needs a network of spatial rank "
          + config.spatialRank() + ", got one of rank " + network.spatialRank());
    }
    this.variant = GaussianVariant.of(config, network.channels());
    variant.check(network, config.type());
    if (network.timeInput() == Network.TimeInput.CONTINUOUS) {
      throw new IllegalArgumentException(config.type() + " feeds integer timesteps 0.." + (config.timesteps() - 1)
          + ", but the network embeds time with learned_sinusoidal_cond/random_fourier_features, made for"
          + " continuous noise levels: use the sinusoidal embedding, or ElucidatedDiffusion");
    }
    network.checkSpatialSize(Arrays.stream(config.size()).asLongStream().toArray());
    this.network = network;
    this.config = config;
    this.schedule = config.schedule();
    this.lossWeight = schedule.lossWeight(config.objective(),
        config.minSnrLossWeight() ? config.minSnrGamma() : null);
    this.sigmas = new double[schedule.timesteps];
    for (int t = 0; t < sigmas.length; t++) {
      sigmas[t] = Math.sqrt((1 - schedule.alphasCumprod[t]) / schedule.alphasCumprod[t]);
    }
  }

  @Override
  public Network network() {
    return network;
  }

  @Override
  public GaussianDiffusionConfig config() {
    return config;
  }

  public NoiseSchedule schedule() {
    return schedule;
  }

  public double[] lossWeight() {
    return lossWeight.clone();
  }

  /** table[t] shaped to broadcast against a batch: [N, 1, ..., 1]. */
  public Operand<TFloat32> extract(Ops tf, double[] table, Operand<TInt32> t) {
    return Diffusion.perExample(tf, tf.gather(tf.constant(NoiseSchedule.toFloat(table)), t, tf.constant(0)),
        config.spatialRank());
  }

  /** {@link #extract} as a value of a formula. */
  Value table(Ops tf, double[] table, Operand<TInt32> t) {
    return Value.of(tf, extract(tf, table, t));
  }

  /** [0, 1] to [-1, 1] when auto_normalize is on. */
  @Override
  public Operand<TFloat32> normalize(Ops tf, Operand<TFloat32> x) {
    return config.autoNormalize() ? super.normalize(tf, x) : x;
  }

  @Override
  public Operand<TFloat32> unnormalize(Ops tf, Operand<TFloat32> x) {
    return config.autoNormalize() ? super.unnormalize(tf, x) : x;
  }

  /** x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise. */
  public Operand<TFloat32> qSample(Ops tf, Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise) {
    return table(tf, schedule.sqrtAlphasCumprod, t).times(Value.of(tf, x0))
        .plus(table(tf, schedule.sqrtOneMinusAlphasCumprod, t).times(Value.of(tf, noise))).operand();
  }

  /** What {@code objective} regresses at x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise. */
  public Operand<TFloat32> target(Ops tf, Objective objective, Operand<TFloat32> x0, Operand<TInt32> t,
      Operand<TFloat32> noise) {
    return objective.target(Value.of(tf, x0), Value.of(tf, noise), table(tf, schedule.sqrtAlphasCumprod, t),
        table(tf, schedule.sqrtOneMinusAlphasCumprod, t)).operand();
  }

  /** x_t at timesteps t as a level: alpha = sqrt(abar_t), sigma_t = sqrt(1 / abar_t - 1), x = x_t / sqrt(abar_t). */
  Level level(Ops tf, Operand<TInt32> t, Value xt) {
    return new Level(table(tf, schedule.sqrtRecipAlphasCumprod, t).times(xt), xt,
        table(tf, schedule.sqrtAlphasCumprod, t), table(tf, schedule.sqrtRecipm1AlphasCumprod, t));
  }

  /** The network's raw output at x_t and timesteps t. */
  Operand<TFloat32> output(Ops tf, Operand<TFloat32> xt, Operand<TInt32> t, Operand<TFloat32> selfCond,
      Operand<TInt64> classLabels, Forward fwd) {
    return network.apply(tf, xt, tf.dtypes.cast(t, TFloat32.class), selfCond, classLabels, fwd);
  }

  /** The network's output at x_t, as noise and as clean data. */
  public Prediction predictions(Ops tf, Operand<TFloat32> x, Operand<TInt32> t, Operand<TFloat32> selfCond,
      boolean clipXStart, boolean rederiveNoise, Forward fwd) {
    return predictions(tf, x, t, selfCond, null, clipXStart, rederiveNoise, fwd);
  }

  /** As above, for a class-conditional network. */
  public Prediction predictions(Ops tf, Operand<TFloat32> x, Operand<TInt32> t, Operand<TFloat32> selfCond,
      Operand<TInt64> classLabels, boolean clipXStart, boolean rederiveNoise, Forward fwd) {
    return fromOutput(tf, x, t, output(tf, x, t, selfCond, classLabels, fwd), clipXStart, rederiveNoise);
  }

  /**
   * Converts a raw network output at x_t and timesteps t, as the reference's model_predictions:
   * with clipping, x0 is clamped to [-1, 1]; a noise the output states itself is passed on unless
   * it is re-derived from the clamped x0, and any other noise is derived from x0.
   */
  public Prediction fromOutput(Ops tf, Operand<TFloat32> x, Operand<TInt32> t, Operand<TFloat32> out,
      boolean clipXStart, boolean rederiveNoise) {
    Level at = level(tf, t, Value.of(tf, x));
    Value output = Value.of(tf, out);
    Value xStart = variant.x0(at, output);
    if (clipXStart) {
      xStart = xStart.clamp(-1, 1);
    }
    Value stated = variant.statedNoise(output);
    Value noise = stated != null && !(clipXStart && rederiveNoise) ? stated : at.noise(xStart);
    return new Prediction(noise.operand(), xStart.operand());
  }

  /**
   * The weighted regression loss at given times and noise, averaged over the batch (the
   * reference's p_losses). With {@code selfConditionStep} the network is first run without
   * self-conditioning and its x0 estimate, with gradients stopped, conditions the second run.
   *
   * @param x0 clean data, already normalised
   */
  public Operand<TFloat32> pLosses(Ops tf, Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise,
      boolean selfConditionStep, Forward fwd) {
    return pLosses(tf, x0, t, noise, null, selfConditionStep, fwd);
  }

  /** As above, for a class-conditional network. */
  public Operand<TFloat32> pLosses(Ops tf, Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise,
      Operand<TInt64> classLabels, boolean selfConditionStep, Forward fwd) {
    return tf.math.mean(pLossesPerExample(tf, x0, t, noise, classLabels, selfConditionStep, fwd), tf.constant(0));
  }

  /** The loss of each example, [N] (the reference's loss_reduction='none'), as the variant defines it. */
  public Operand<TFloat32> pLossesPerExample(Ops tf, Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise,
      Operand<TInt64> classLabels, boolean selfConditionStep, Forward fwd) {
    return variant.losses(this, tf, x0, t, noise, classLabels, selfConditionStep, fwd);
  }

  /**
   * The training loss with its randomness drawn from {@code seed} (int64[2]): uniform timesteps,
   * Gaussian noise and, when offset_noise_strength > 0, a per-channel offset added to the noise.
   *
   * @param images data in [0, 1] (or as-is without auto_normalize)
   */
  public Operand<TFloat32> loss(Ops tf, Operand<TFloat32> images, Operand<TInt64> seed,
      boolean selfConditionStep, Forward fwd) {
    return loss(tf, images, null, seed, BatchWindow.whole(tf, BatchWindow.rows(tf, images)), selfConditionStep, fwd);
  }

  @Override
  public Operand<TFloat32> losses(Ops tf, Operand<TFloat32> images, Operand<TInt64> classLabels, Operand<TInt64> seed,
      BatchWindow window, boolean selfConditionStep, Forward fwd) {
    TrainingDraws draws = new TrainingDraws(tf, seed, window, sampleShape());
    Operand<TInt32> t = draws.uniformInt(1, config.timesteps());
    Value noise = Value.of(tf, draws.noiseLikeExamples(2));

    if (config.offsetNoiseStrength() > 0) {
      // [N, 1, ..., 1, C]: one offset per example and channel
      long[] offsetShape = new long[config.spatialRank() + 1];
      Arrays.fill(offsetShape, 1);
      offsetShape[config.spatialRank()] = network.channels();
      noise = noise.plus(Value.of(tf, draws.normal(3, offsetShape)).times(config.offsetNoiseStrength()));
    }
    return pLossesPerExample(tf, normalize(tf, images), t, noise.operand(), classLabels, selfConditionStep, fwd);
  }

  // the sigma view

  /** sigma_t for every timestep t, rising with t. */
  public double[] sigmas() {
    return sigmas.clone();
  }

  @Override
  public double sigmaMin() {
    return sigmas[0];
  }

  @Override
  public double sigmaMax() {
    return sigmas[sigmas.length - 1];
  }

  @Override
  public int timesteps() {
    return config.timesteps();
  }

  /**
   * DDIM when it samples fewer steps than it has timesteps, else DDPM, as the reference's sample();
   * both clamp x0.
   */
  @Override
  public SamplingDefaults samplingDefaults() {
    return new SamplingDefaults(config.isDdimSampling() ? Procedure.DDIM : Procedure.DDPM, config.sampler(),
        config.samplingTimesteps(), config.ddimSamplingEta(), null, true, Set.of(), config.useCfgPlusPlus());
  }

  /**
   * The reference's DDIM timesteps for {@code steps} steps, as noise levels, then 0; a timestep
   * that the reference's rounding repeats is taken once.
   */
  @Override
  public double[] ownSigmas(int steps) {
    int[][] pairs = schedule.ddimTimePairs(steps);
    double[] out = new double[pairs.length + 1];
    int n = 0;
    for (int[] pair : pairs) {
      if (n == 0 || sigmas[pair[0]] < out[n - 1]) {
        out[n++] = sigmas[pair[0]];
      }
    }
    return Arrays.copyOf(out, n + 1);
  }

  @Override
  Reading reading() {
    return variant;
  }

  /** The timestep of sigma, interpolated in log sigma between the schedule's timesteps (exact on them). */
  @Override
  Operand<TFloat32> networkTime(Ops tf, Operand<TFloat32> sigma) {
    return timeOf(tf, sigma);
  }

  /** The (fractional) timestep of a scalar noise level: k-diffusion's sigma_to_t, exact on the schedule. */
  Operand<TFloat32> timeOf(Ops tf, Operand<TFloat32> sigma) {
    int last = sigmas.length - 1;
    float[] table = new float[sigmas.length];
    float[] logTable = new float[sigmas.length];
    for (int t = 0; t < sigmas.length; t++) {
      table[t] = (float) sigmas[t];
      logTable[t] = (float) Math.log(sigmas[t]);
    }
    Operand<TFloat32> logSigmas = tf.constant(logTable);
    Operand<TFloat32> logSigma = tf.math.log(sigma);
    // the interval [idx, idx + 1] holding log sigma, clamped to the table
    Operand<TInt32> below = tf.reduceSum(tf.dtypes.cast(tf.math.lessEqual(
        tf.slice(logSigmas, tf.constant(new int[] {1}), tf.constant(new int[] {last - 1})), logSigma), TInt32.class),
        tf.constant(0));
    Operand<TInt32> idx = tf.math.minimum(below, tf.constant(Math.max(last - 1, 0)));
    Operand<TInt32> next = tf.math.minimum(tf.math.add(idx, tf.constant(1)), tf.constant(last));
    Operand<TFloat32> lo = tf.gather(logSigmas, idx, tf.constant(0));
    Operand<TFloat32> hi = tf.gather(logSigmas, next, tf.constant(0));
    Operand<TFloat32> w = tf.clipByValue(tf.math.divNoNan(tf.math.sub(logSigma, lo), tf.math.sub(hi, lo)),
        tf.constant(0f), tf.constant(1f));
    Operand<TFloat32> t = tf.math.add(tf.dtypes.cast(idx, TFloat32.class), w);
    // a schedule's own sigma gives its integer timestep exactly, whatever the logarithm rounds to
    Operand<TFloat32> sigmaTable = tf.constant(table);
    t = tf.select(tf.math.equal(sigma, tf.gather(sigmaTable, idx, tf.constant(0))),
        tf.dtypes.cast(idx, TFloat32.class), t);
    return tf.select(tf.math.equal(sigma, tf.gather(sigmaTable, next, tf.constant(0))),
        tf.dtypes.cast(next, TFloat32.class), t);
  }
}
