package io.diffusion4j.diffusion;

import io.diffusion4j.nn.Forward;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * LearnedGaussianDiffusion's reading of the network (Nichol and Dhariwal 2021): its output is
 * the noise and, in the second half of the channels, v in [-1, 1], the model's log-variance
 * being (v + 1) / 2 of the way from the posterior's log beta~_t to log beta_t. Trained by the
 * hybrid loss: the noise's MSE plus vb_loss_weight times the variational bound, the KL to the
 * true posterior (the model's mean detached, so the bound trains the variance only) and at
 * t = 0 the discretised Gaussian decoder's NLL, in bits.
 */
final class LearnedVariance {
  private static final double NAT = 1 / Math.log(2);

  private LearnedVariance() {}

  /** The first half of the channels: what the objective reads. */
  static Operand<TFloat32> prediction(Ops tf, Operand<TFloat32> out, int channels) {
    return GaussianDiffusion.channels(tf, out, 0, channels);
  }

  /** The interpolation fraction (v + 1) / 2 of the second half. */
  static Operand<TFloat32> fraction(Ops tf, Operand<TFloat32> out, int channels) {
    return tf.math.mul(tf.math.add(GaussianDiffusion.channels(tf, out, channels, channels), tf.constant(1f)),
        tf.constant(0.5f));
  }

  /** The reference's p_losses, per example. */
  static Operand<TFloat32> losses(GaussianDiffusion d, Ops tf, Operand<TFloat32> x0, Operand<TInt32> t,
      Operand<TFloat32> noise, Operand<TInt64> classLabels, Forward fwd) {
    NoiseSchedule s = d.schedule();
    int channels = d.network().channels();
    Operand<TFloat32> xt = d.qSample(tf, x0, t, noise);
    Operand<TFloat32> out = d.network().apply(tf, xt, tf.dtypes.cast(t, TFloat32.class), null, classLabels, fwd);
    Operand<TFloat32> predNoise = prediction(tf, out, channels);
    Operand<TFloat32> trueMean = posteriorMean(d, tf, x0, xt, t);
    Operand<TFloat32> minLog = d.extract(tf, s.posteriorLogVarianceClipped, t);
    double[] logBetas = new double[s.timesteps];
    for (int i = 0; i < logBetas.length; i++) {
      logBetas[i] = Math.log(s.betas[i]);
    }
    Operand<TFloat32> frac = fraction(tf, out, channels);
    Operand<TFloat32> modelLogVariance = tf.math.add(tf.math.mul(frac, d.extract(tf, logBetas, t)),
        tf.math.mul(tf.math.sub(tf.constant(1f), frac), minLog));
    Operand<TFloat32> modelMean = tf.stopGradient(
        posteriorMean(d, tf, d.predictStartFromNoise(tf, xt, t, predNoise), xt, t));
    Operand<TFloat32> kl = Losses.meanPerExample(tf, normalKl(tf, trueMean, minLog, modelMean, modelLogVariance));
    Operand<TFloat32> nll = Losses.meanPerExample(tf, tf.math.neg(discretizedGaussianLogLikelihood(tf, x0, modelMean,
        tf.math.mul(modelLogVariance, tf.constant(0.5f)))));
    Operand<TFloat32> vb = tf.math.mul(tf.select(tf.math.equal(t, tf.constant(0)), nll, kl), tf.constant((float) NAT));
    Operand<TFloat32> simple = Losses.meanPerExample(tf, tf.math.squaredDifference(predNoise, noise));
    return tf.math.add(simple, tf.math.mul(vb, tf.constant((float) d.config().vbLossWeight())));
  }

  private static Operand<TFloat32> posteriorMean(GaussianDiffusion d, Ops tf, Operand<TFloat32> x0,
      Operand<TFloat32> xt, Operand<TInt32> t) {
    return tf.math.add(tf.math.mul(d.extract(tf, d.schedule().posteriorMeanCoef1, t), x0),
        tf.math.mul(d.extract(tf, d.schedule().posteriorMeanCoef2, t), xt));
  }

  /** KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)), elementwise. */
  static Operand<TFloat32> normalKl(Ops tf, Operand<TFloat32> mean1, Operand<TFloat32> logvar1, Operand<TFloat32> mean2,
      Operand<TFloat32> logvar2) {
    Operand<TFloat32> sum = tf.math.add(tf.math.sub(tf.math.sub(logvar2, logvar1), tf.constant(1f)),
        tf.math.exp(tf.math.sub(logvar1, logvar2)));
    sum = tf.math.add(sum, tf.math.mul(tf.math.squaredDifference(mean1, mean2), tf.math.exp(tf.math.neg(logvar2))));
    return tf.math.mul(sum, tf.constant(0.5f));
  }

  /**
   * The log-likelihood of data x in [-1, 1] quantised to 256 levels under N(means, e^(2 log_scales)),
   * with the ends taking the tails (Ho et al. 2020, Eq. 13), through the tanh approximation of the
   * normal CDF; logs clamped at 1e-15.
   */
  static Operand<TFloat32> discretizedGaussianLogLikelihood(Ops tf, Operand<TFloat32> x, Operand<TFloat32> means,
      Operand<TFloat32> logScales) {
    Operand<TFloat32> centered = tf.math.sub(x, means);
    Operand<TFloat32> invStdv = tf.math.exp(tf.math.neg(logScales));
    Operand<TFloat32> cdfPlus = approxStandardNormalCdf(tf, tf.math.mul(invStdv,
        tf.math.add(centered, tf.constant(1f / 255))));
    Operand<TFloat32> cdfMin = approxStandardNormalCdf(tf, tf.math.mul(invStdv,
        tf.math.sub(centered, tf.constant(1f / 255))));
    Operand<TFloat32> logCdfPlus = log(tf, cdfPlus);
    Operand<TFloat32> logOneMinusCdfMin = log(tf, tf.math.sub(tf.constant(1f), cdfMin));
    Operand<TFloat32> logCdfDelta = log(tf, tf.math.sub(cdfPlus, cdfMin));
    float thres = 0.999f;
    return tf.select(tf.math.less(x, tf.constant(-thres)), logCdfPlus,
        tf.select(tf.math.greater(x, tf.constant(thres)), logOneMinusCdfMin, logCdfDelta));
  }

  private static Operand<TFloat32> approxStandardNormalCdf(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> inner = tf.math.mul(tf.constant((float) Math.sqrt(2 / Math.PI)),
        tf.math.add(x, tf.math.mul(tf.constant(0.044715f), tf.math.pow(x, tf.constant(3f)))));
    return tf.math.mul(tf.math.add(tf.constant(1f), tf.math.tanh(inner)), tf.constant(0.5f));
  }

  private static Operand<TFloat32> log(Ops tf, Operand<TFloat32> x) {
    return tf.math.log(tf.math.maximum(x, tf.constant(1e-15f)));
  }
}
