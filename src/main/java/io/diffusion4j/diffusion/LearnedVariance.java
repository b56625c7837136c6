package io.diffusion4j.diffusion;

import io.diffusion4j.diffusion.VariancePreserving.Level;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Value;
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
record LearnedVariance(int channels, double vbLossWeight) implements GaussianVariant {
  private static final double NAT = 1 / Math.log(2);

  @Override
  public void check(Network network, String type) {
    if (network.outDim() != 2 * channels) {
      throw new IllegalArgumentException(type + " needs out_dim = 2 x channels (" + 2 * channels + ": the noise and the"
          + " variance; the Unet's learned_variance true), got out_dim " + network.outDim());
    }
    GaussianVariant.refuseSelfCondition(network, type);
  }

  /** The first half of the channels, read as noise (the config allows no other objective). */
  @Override
  public Value statedNoise(Value out) {
    return out.channels(0, channels);
  }

  @Override
  public Value x0(Level at, Value out) {
    return Objective.PRED_NOISE.x0(at, statedNoise(out));
  }

  /** Eq. 15's fraction (v + 1) / 2, of the second half. */
  @Override
  public Value varianceFrac(Value out) {
    return out.channels(channels, channels).plus(1).times(0.5);
  }

  /** The reference's p_losses, per example; it takes no self-conditioning step (it takes no self-conditioned network). */
  @Override
  public Operand<TFloat32> losses(GaussianDiffusion d, Ops tf, Operand<TFloat32> x0, Operand<TInt32> t,
      Operand<TFloat32> noise, Operand<TInt64> classLabels, boolean selfConditionStep, Forward fwd) {
    NoiseSchedule s = d.schedule();
    Operand<TFloat32> xt = d.qSample(tf, x0, t, noise);
    Value out = Value.of(tf, d.output(tf, xt, t, null, classLabels, fwd));
    Value start = Value.of(tf, x0);
    Value noisy = Value.of(tf, xt);
    Value trueMean = posteriorMean(d, tf, start, noisy, t);
    Value minLog = d.table(tf, s.posteriorLogVarianceClipped, t);
    double[] logBetas = new double[s.timesteps];
    for (int i = 0; i < logBetas.length; i++) {
      logBetas[i] = Math.log(s.betas[i]);
    }
    Value frac = varianceFrac(out);
    // Eq. 15: v log beta_t + (1 - v) log beta~_t
    Value modelLogVariance = frac.times(d.table(tf, logBetas, t)).plus(frac.neg().plus(1).times(minLog));
    Value modelMean = posteriorMean(d, tf, x0(d.level(tf, t, noisy), out), noisy, t).apply((g, o) -> g.stopGradient(o));
    Value kl = normalKl(trueMean, minLog, modelMean, modelLogVariance).apply(Losses::meanPerExample);
    Value nll = discretizedGaussianLogLikelihood(start, modelMean, modelLogVariance.times(0.5)).neg()
        .apply(Losses::meanPerExample);
    Value vb = Value.of(tf, tf.select(tf.math.equal(t, tf.constant(0)), nll.operand(), kl.operand())).times(NAT);
    Value simple = Losses.meanSquaredError(statedNoise(out), Value.of(tf, noise));
    return simple.plus(vb.times(vbLossWeight)).operand();
  }

  /** Ho et al. 2020, Eq. 7: the mean of q(x_{t-1} | x_t, x0). */
  private static Value posteriorMean(GaussianDiffusion d, Ops tf, Value x0, Value xt, Operand<TInt32> t) {
    return d.table(tf, d.schedule().posteriorMeanCoef1, t).times(x0)
        .plus(d.table(tf, d.schedule().posteriorMeanCoef2, t).times(xt));
  }

  /** KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)), elementwise. */
  static Value normalKl(Value mean1, Value logvar1, Value mean2, Value logvar2) {
    return logvar2.minus(logvar1).minus(1).plus(logvar1.minus(logvar2).exp())
        .plus(mean1.squaredDifference(mean2).times(logvar2.neg().exp()))
        .times(0.5);
  }

  /**
   * The log-likelihood of data x in [-1, 1] quantised to 256 levels under N(means, e^(2 log_scales)),
   * with the ends taking the tails (Ho et al. 2020, Eq. 13), through the tanh approximation of the
   * normal CDF; logs clamped at 1e-15.
   */
  static Value discretizedGaussianLogLikelihood(Value x, Value means, Value logScales) {
    Value centered = x.minus(means);
    Value invStdv = logScales.neg().exp();
    Value cdfPlus = approxStandardNormalCdf(invStdv.times(centered.plus(1f / 255)));
    Value cdfMin = approxStandardNormalCdf(invStdv.times(centered.minus(1f / 255)));
    Value logCdfPlus = cdfPlus.max(1e-15).log();
    Value logOneMinusCdfMin = cdfMin.neg().plus(1).max(1e-15).log();
    Value logCdfDelta = cdfPlus.minus(cdfMin).max(1e-15).log();
    float thres = 0.999f;
    return x.apply((tf, o) -> tf.select(tf.math.less(o, tf.constant(-thres)), logCdfPlus.operand(),
        tf.select(tf.math.greater(o, tf.constant(thres)), logOneMinusCdfMin.operand(), logCdfDelta.operand())));
  }

  /** 0.5 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). */
  private static Value approxStandardNormalCdf(Value x) {
    return x.plus(x.pow(3).times(0.044715)).times(Math.sqrt(2 / Math.PI)).tanh().plus(1).times(0.5);
  }
}
