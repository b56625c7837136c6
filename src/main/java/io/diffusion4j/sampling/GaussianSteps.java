package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.GaussianDiffusion;
import io.diffusion4j.diffusion.NoiseSchedule;
import io.diffusion4j.nn.Forward;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The reverse steps of Gaussian diffusion as graph maths: one network evaluation each, so a
 * sampler runs one session call per step. Times are [N] int32.
 */
public final class GaussianSteps {
  private GaussianSteps() {}

  /** A step's new sample and the network's x0 estimate (the next step's self-conditioning). */
  public record Step(Operand<TFloat32> next, Operand<TFloat32> xStart) {}

  /**
   * DDPM ancestral step (Ho et al. 2020, Algorithm 2 with the posterior of Eq. 7): x0 is clamped to
   * [-1, 1], then x_{t-1} = mu(x_t, x0) + sigma_t z, with no noise at t = 0.
   */
  public static Step ddpm(Ops tf, GaussianDiffusion d, Operand<TFloat32> x, Operand<TInt32> t,
      Operand<TFloat32> selfCond, Operand<TInt64> classLabels, Operand<TFloat32> noise) {
    NoiseSchedule s = d.schedule();
    Operand<TFloat32> xStart = tf.clipByValue(
        d.predictions(tf, x, t, selfCond, classLabels, false, false, Forward.inference()).xStart(),
        tf.constant(-1f), tf.constant(1f));
    Operand<TFloat32> mean = tf.math.add(tf.math.mul(d.extract(tf, s.posteriorMeanCoef1, t), xStart),
        tf.math.mul(d.extract(tf, s.posteriorMeanCoef2, t), x));
    Operand<TFloat32> std = tf.math.exp(tf.math.mul(d.extract(tf, s.posteriorLogVarianceClipped, t), tf.constant(0.5f)));
    Operand<TFloat32> notLast = tf.reshape(tf.dtypes.cast(tf.math.greater(t, tf.constant(0)), TFloat32.class),
        tf.shape(std));
    return new Step(tf.math.add(mean, tf.math.mul(tf.math.mul(std, notLast), noise)), xStart);
  }

  /**
   * DDIM step (Song et al. 2021, Eq. 12) from t to tNext >= 0, with x0 clamped and the noise
   * re-derived from it; eta = 0 is deterministic, eta = 1 matches DDPM's variance.
   */
  public static Step ddim(Ops tf, GaussianDiffusion d, Operand<TFloat32> x, Operand<TInt32> t,
      Operand<TInt32> tNext, Operand<TFloat32> eta, Operand<TFloat32> selfCond, Operand<TInt64> classLabels,
      Operand<TFloat32> noise) {
    NoiseSchedule s = d.schedule();
    GaussianDiffusion.Prediction p = d.predictions(tf, x, t, selfCond, classLabels, true, true, Forward.inference());
    Operand<TFloat32> alpha = d.extract(tf, s.alphasCumprod, t);
    Operand<TFloat32> alphaNext = d.extract(tf, s.alphasCumprod, tNext);
    Operand<TFloat32> one = tf.constant(1f);
    Operand<TFloat32> sigma = tf.math.mul(eta, tf.math.sqrt(tf.math.div(
        tf.math.mul(tf.math.sub(one, tf.math.div(alpha, alphaNext)), tf.math.sub(one, alphaNext)),
        tf.math.sub(one, alpha))));
    Operand<TFloat32> c = tf.math.sqrt(tf.math.maximum(
        tf.math.sub(tf.math.sub(one, alphaNext), tf.math.square(sigma)), tf.constant(0f)));
    Operand<TFloat32> next = tf.math.add(tf.math.add(
        tf.math.mul(p.xStart(), tf.math.sqrt(alphaNext)), tf.math.mul(c, p.noise())),
        tf.math.mul(sigma, noise));
    return new Step(next, p.xStart());
  }
}
