package io.diffusion4j.diffusion;

import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Forward;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Mean;
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

  public GaussianDiffusion(Network network, GaussianDiffusionConfig config) {
    if (network.spatialRank() != config.spatialRank()) {
      throw new IllegalArgumentException(config.type() + " needs a network of spatial rank "
          + config.spatialRank() + ", got one of rank " + network.spatialRank());
    }
    if (network.outDim() != network.channels()) {
      throw new IllegalArgumentException(config.type() + " needs out_dim == channels (" + network.channels()
          + "), got out_dim " + network.outDim() + ": learned_variance needs a learned-variance diffusion");
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
    Operand<TFloat32> v = tf.gather(tf.constant(NoiseSchedule.toFloat(table)), t, tf.constant(0));
    long[] shape = new long[config.spatialRank() + 2];
    Arrays.fill(shape, 1);
    shape[0] = -1;
    return tf.reshape(v, tf.constant(shape));
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
        Operand<TFloat32> xStart = clipXStart ? clip(tf, out) : out;
        return new Prediction(predictNoiseFromStart(tf, x, t, xStart), xStart);
      }
      default -> {
        Operand<TFloat32> xStart = predictStartFromV(tf, x, t, out);
        xStart = clipXStart ? clip(tf, xStart) : xStart;
        return new Prediction(predictNoiseFromStart(tf, x, t, xStart), xStart);
      }
    }
  }

  private static Operand<TFloat32> clip(Ops tf, Operand<TFloat32> x) {
    return tf.clipByValue(x, tf.constant(-1f), tf.constant(1f));
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
    Operand<TFloat32> perExample = tf.math.squaredDifference(out, target);
    int[] nonBatch = new int[config.spatialRank() + 1];
    for (int i = 0; i < nonBatch.length; i++) {
      nonBatch[i] = i + 1;
    }
    perExample = tf.math.mean(perExample, tf.constant(nonBatch), Mean.keepDims(true));
    Operand<TFloat32> weighted = tf.math.mul(perExample, extract(tf, lossWeight, t));
    return tf.math.mean(weighted, tf.constant(allAxes()));
  }

  /**
   * The training loss with its randomness drawn from {@code seed} (int64[2]): uniform timesteps,
   * Gaussian noise and, when offset_noise_strength > 0, a per-channel offset added to the noise.
   *
   * @param images data in [0, 1] (or as-is without auto_normalize)
   */
  public Operand<TFloat32> loss(Ops tf, Operand<TFloat32> images, Operand<TInt64> seed,
      boolean selfConditionStep, Forward fwd) {
    return loss(tf, images, null, seed, MicroBatch.whole(tf), selfConditionStep, fwd);
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, Operand<TFloat32> images, Operand<TInt64> classLabels, Operand<TInt64> seed,
      MicroBatch micro, boolean selfConditionStep, Forward fwd) {
    TrainingDraws draws = new TrainingDraws(tf, images, seed, micro, sampleShape());
    Operand<TInt32> t = draws.uniformInt(1, config.timesteps());
    Operand<TFloat32> noise = draws.noiseLikeExamples(2);
    if (config.offsetNoiseStrength() > 0) {
      // [N, 1, ..., 1, C]: one offset per example and channel
      long[] offsetShape = new long[config.spatialRank() + 1];
      Arrays.fill(offsetShape, 1);
      offsetShape[config.spatialRank()] = network.channels();
      noise = tf.math.add(noise, tf.math.mul(draws.normal(3, offsetShape), tf.constant((float) config.offsetNoiseStrength())));
    }
    return pLosses(tf, normalize(tf, images), t, noise, classLabels, selfConditionStep, fwd);
  }

  private int[] allAxes() {
    int[] axes = new int[config.spatialRank() + 2];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i;
    }
    return axes;
  }


}
