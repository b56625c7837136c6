package io.diffusion4j.diffusion;

import io.diffusion4j.diffusion.SamplingDefaults.Procedure;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Forward;
import java.util.Arrays;
import java.util.Set;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Gaussian diffusion (Ho et al. 2020) over a denoising network, for sequences and images alike:
 * the forward process, the conversions between what the network predicts and the clean data, and
 * the training loss as one graph. The reverse steps live in {@code io.diffusion4j.sampling}.
 */
public final class GaussianDiffusion implements Diffusion {

  /** The network's output expressed both ways. */
  public record Prediction(Operand<TFloat32> noise, Operand<TFloat32> xStart) {}

  private final Network network;
  private final GaussianDiffusionConfig config;
  private final NoiseSchedule schedule;
  private final double[] lossWeight;
  /** sigma_t = sqrt((1 - abar_t) / abar_t), rising with t. */
  private final double[] sigmas;

  public GaussianDiffusion(Network network, GaussianDiffusionConfig config) {
    if (network.spatialRank() != config.spatialRank()) {
      throw new IllegalArgumentException(config.type() + " needs a network of spatial rank "
          + config.spatialRank() + ", got one of rank " + network.spatialRank());
    }
    int channels = network.channels();
    GaussianDiffusionConfig.Module module = config.module();
    if (network.outDim() != module.outDim(channels)) {
      throw new IllegalArgumentException(switch (module) {
        case LEARNED -> config.type() + " needs out_dim = 2 x channels (" + 2 * channels + ": the noise and the"
            + " variance; the Unet's learned_variance true), got out_dim " + network.outDim();
        case WEIGHTED -> config.type() + " needs out_dim = 2 x channels + 2 (" + (2 * channels + 2) + ": the noise,"
            + " x0 and their two weights), got out_dim " + network.outDim();
        default -> config.type() + " needs out_dim == channels (" + channels + "), got out_dim " + network.outDim()
            + ": learned_variance needs LearnedGaussianDiffusion";
      });
    }
    if (network.selfCondition() && (module == GaussianDiffusionConfig.Module.LEARNED
        || module == GaussianDiffusionConfig.Module.WEIGHTED)) {
      throw new IllegalArgumentException(config.type() + " does not take a self-conditioned network (nor does the"
          + " reference): set self_condition false");
    }
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

  /** [0, 1] to [-1, 1] when auto_normalize is on. */
  @Override
  public Operand<TFloat32> normalize(Ops tf, Operand<TFloat32> x) {
    return config.autoNormalize() ? tf.math.sub(tf.math.mul(x, tf.constant(2f)), tf.constant(1f)) : x;
  }

  @Override
  public Operand<TFloat32> unnormalize(Ops tf, Operand<TFloat32> x) {
    return config.autoNormalize() ? tf.math.mul(tf.math.add(x, tf.constant(1f)), tf.constant(0.5f)) : x;
  }

  /** x_t = sqrt(a_t) x0 + sqrt(1 - a_t) noise. */
  public Operand<TFloat32> qSample(Ops tf, Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise) {
    return tf.math.add(tf.math.mul(extract(tf, schedule.sqrtAlphasCumprod, t), x0),
        tf.math.mul(extract(tf, schedule.sqrtOneMinusAlphasCumprod, t), noise));
  }

  public Operand<TFloat32> predictStartFromNoise(Ops tf, Operand<TFloat32> xt, Operand<TInt32> t, Operand<TFloat32> noise) {
    return tf.math.sub(tf.math.mul(extract(tf, schedule.sqrtRecipAlphasCumprod, t), xt),
        tf.math.mul(extract(tf, schedule.sqrtRecipm1AlphasCumprod, t), noise));
  }

  public Operand<TFloat32> predictNoiseFromStart(Ops tf, Operand<TFloat32> xt, Operand<TInt32> t, Operand<TFloat32> x0) {
    return tf.math.div(tf.math.sub(tf.math.mul(extract(tf, schedule.sqrtRecipAlphasCumprod, t), xt), x0),
        extract(tf, schedule.sqrtRecipm1AlphasCumprod, t));
  }

  /** v = sqrt(a_t) noise - sqrt(1 - a_t) x0. */
  public Operand<TFloat32> predictV(Ops tf, Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise) {
    return tf.math.sub(tf.math.mul(extract(tf, schedule.sqrtAlphasCumprod, t), noise),
        tf.math.mul(extract(tf, schedule.sqrtOneMinusAlphasCumprod, t), x0));
  }

  public Operand<TFloat32> predictStartFromV(Ops tf, Operand<TFloat32> xt, Operand<TInt32> t, Operand<TFloat32> v) {
    return tf.math.sub(tf.math.mul(extract(tf, schedule.sqrtAlphasCumprod, t), xt),
        tf.math.mul(extract(tf, schedule.sqrtOneMinusAlphasCumprod, t), v));
  }

  /** The network's output at x_t, as noise and as clean data. */
  public Prediction predictions(Ops tf, Operand<TFloat32> x, Operand<TInt32> t, Operand<TFloat32> selfCond,
      boolean clipXStart, boolean rederiveNoise, Forward fwd) {
    return predictions(tf, x, t, selfCond, null, clipXStart, rederiveNoise, fwd);
  }

  /** As above, for a class-conditional network. */
  public Prediction predictions(Ops tf, Operand<TFloat32> x, Operand<TInt32> t, Operand<TFloat32> selfCond,
      Operand<TInt64> classLabels, boolean clipXStart, boolean rederiveNoise, Forward fwd) {
    Operand<TFloat32> out = network.apply(tf, x, tf.dtypes.cast(t, TFloat32.class), selfCond, classLabels, fwd);
    return fromOutput(tf, x, t, out, clipXStart, rederiveNoise);
  }

  /** Converts a raw network output; with clipping, x0 is clamped to [-1, 1] (and noise re-derived). */
  public Prediction fromOutput(Ops tf, Operand<TFloat32> x, Operand<TInt32> t, Operand<TFloat32> out,
      boolean clipXStart, boolean rederiveNoise) {
    switch (config.module()) {
      case LEARNED -> out = LearnedVariance.prediction(tf, out, network.channels());
      case WEIGHTED -> {
        WeightedObjective.Parts p = WeightedObjective.parts(tf, out, network.channels());
        Operand<TFloat32> xStart = p.mix(tf, predictStartFromNoise(tf, x, t, p.noise()));
        xStart = maybeClip(tf, xStart, clipXStart);
        return new Prediction(predictNoiseFromStart(tf, x, t, xStart), xStart);
      }
      default -> { }
    }
    switch (config.objective()) {
      case PRED_NOISE -> {
        Operand<TFloat32> xStart = predictStartFromNoise(tf, x, t, out);
        if (!clipXStart) {
          return new Prediction(out, xStart);
        }
        xStart = clip(tf, xStart);
        return new Prediction(rederiveNoise ? predictNoiseFromStart(tf, x, t, xStart) : out, xStart);
      }
      case PRED_X0 -> {
        Operand<TFloat32> xStart = maybeClip(tf, out, clipXStart);
        return new Prediction(predictNoiseFromStart(tf, x, t, xStart), xStart);
      }
      default -> {
        Operand<TFloat32> xStart = predictStartFromV(tf, x, t, out);
        xStart = maybeClip(tf, xStart, clipXStart);
        return new Prediction(predictNoiseFromStart(tf, x, t, xStart), xStart);
      }
    }
  }

  /** Channels {@code from .. from + count - 1} of a channels-last tensor. */
  static Operand<TFloat32> channels(Ops tf, Operand<TFloat32> x, int from, int count) {
    int rank = x.shape().numDimensions();
    int[] begin = new int[rank];
    int[] size = new int[rank];
    java.util.Arrays.fill(size, -1);
    begin[rank - 1] = from;
    size[rank - 1] = count;
    return tf.slice(x, tf.constant(begin), tf.constant(size));
  }

  private static Operand<TFloat32> clip(Ops tf, Operand<TFloat32> x) {
    return tf.clipByValue(x, tf.constant(-1f), tf.constant(1f));
  }

  private static Operand<TFloat32> maybeClip(Ops tf, Operand<TFloat32> x, boolean clamp) {
    return clamp ? clip(tf, x) : x;
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

  /** The loss of each example, [N] (the reference's loss_reduction='none'), as the module defines it. */
  public Operand<TFloat32> pLossesPerExample(Ops tf, Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise,
      Operand<TInt64> classLabels, boolean selfConditionStep, Forward fwd) {
    switch (config.module()) {
      case LEARNED -> {
        return LearnedVariance.losses(this, tf, x0, t, noise, classLabels, fwd);
      }
      case WEIGHTED -> {
        return WeightedObjective.losses(this, tf, x0, t, noise, classLabels, fwd);
      }
      default -> { }
    }
    Operand<TFloat32> x = qSample(tf, x0, t, noise);
    Operand<TFloat32> selfCond = null;
    if (selfConditionStep) {
      if (!network.selfCondition()) {
        throw new IllegalArgumentException("self-conditioning step asked of a network built with self_condition=False");
      }
      selfCond = tf.stopGradient(predictions(tf, x, t, null, classLabels, false, false, fwd).xStart());
    }
    Operand<TFloat32> out = network.apply(tf, x, tf.dtypes.cast(t, TFloat32.class), selfCond, classLabels, fwd);
    Operand<TFloat32> target = switch (config.objective()) {
      case PRED_NOISE -> noise;
      case PRED_X0 -> x0;
      case PRED_V -> predictV(tf, x0, t, noise);
    };
    Operand<TFloat32> perExample = Losses.meanPerExample(tf, tf.math.squaredDifference(out, target));
    return tf.math.mul(perExample, tf.gather(tf.constant(NoiseSchedule.toFloat(lossWeight)), t, tf.constant(0)));
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
    Operand<TFloat32> noise = draws.noiseLikeExamples(2);

    if (config.offsetNoiseStrength() > 0) {
      // [N, 1, ..., 1, C]: one offset per example and channel
      long[] offsetShape = new long[config.spatialRank() + 1];
      Arrays.fill(offsetShape, 1);
      offsetShape[config.spatialRank()] = network.channels();
      noise = tf.math.add(noise, tf.math.mul(draws.normal(3, offsetShape), tf.constant((float) config.offsetNoiseStrength())));
    }
    return pLossesPerExample(tf, normalize(tf, images), t, noise, classLabels, selfConditionStep, fwd);
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

  /** x_T is the standard-normal draw: in the sigma view, x = x_T sqrt(1 + sigma^2). */
  @Override
  public double startScale(double sigma) {
    return Math.sqrt(1 + sigma * sigma);
  }

  /**
   * The network's estimate of x0 at noise level sigma: it sees x / sqrt(1 + sigma^2) (the
   * x_t of that sigma) and the timestep of sigma, interpolated in log sigma between the
   * schedule's timesteps (exact at a schedule's own sigma), and its output is converted as
   * the objective says, then with {@code clamp} clamped to [-1, 1], as the reference's samplers
   * clamp it.
   */
  @Override
  public Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning c,
      boolean clamp) {
    return estimate(tf, x, sigma, c, clamp).denoised();
  }

  /**
   * The denoised estimate, and the noise to re-noise with: the one the (clamped) estimate implies
   * (as the reference's 2-D DDIM re-derives it; its classifier_free_guidance module does not, see
   * the README), under CFG++ the (clamped) unconditional estimate's.
   */
  @Override
  public Estimate estimate(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning c, boolean clamp) {
    Operand<TFloat32> cIn = tf.math.rsqrt(tf.math.add(tf.constant(1f), tf.math.square(sigma)));
    Operand<TFloat32> xt = tf.math.mul(x, cIn);
    Operand<TInt32> batch = tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    Guidance.Outputs out = Guidance.evaluate(tf, network, xt, tf.fill(batch, timeOf(tf, sigma)), c,
        Forward.inference());
    Operand<TFloat32> denoised = maybeClip(tf, toX0(tf, x, xt, cIn, sigma, out.out()), clamp);
    Operand<TFloat32> renoised = config.useCfgPlusPlus() && out.uncond() != null
        ? maybeClip(tf, toX0(tf, x, xt, cIn, sigma, out.uncond()), clamp) : denoised;
    Operand<TFloat32> varianceFrac = config.module() == GaussianDiffusionConfig.Module.LEARNED
        ? LearnedVariance.fraction(tf, out.out(), network.channels()) : null;
    return new Estimate(denoised, tf.math.div(tf.math.sub(x, renoised), sigma), varianceFrac);
  }

  private Operand<TFloat32> toX0(Ops tf, Operand<TFloat32> x, Operand<TFloat32> xt, Operand<TFloat32> cIn,
      Operand<TFloat32> sigma, Operand<TFloat32> out) {
    switch (config.module()) {
      case LEARNED -> out = LearnedVariance.prediction(tf, out, network.channels());
      case WEIGHTED -> {
        WeightedObjective.Parts p = WeightedObjective.parts(tf, out, network.channels());
        return p.mix(tf, tf.math.sub(x, tf.math.mul(sigma, p.noise())));
      }
      default -> { }
    }
    return switch (config.objective()) {
      case PRED_NOISE -> tf.math.sub(x, tf.math.mul(sigma, out));
      case PRED_X0 -> out;
      // x0 = sqrt(abar) x_t - sqrt(1 - abar) v, with sqrt(abar) = cIn and sqrt(1 - abar) = sigma cIn
      case PRED_V -> tf.math.mul(cIn, tf.math.sub(xt, tf.math.mul(sigma, out)));
    };
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
