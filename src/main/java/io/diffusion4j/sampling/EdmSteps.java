package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.ElucidatedDiffusion;
import io.diffusion4j.nn.Forward;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The EDM sampler steps as graph maths, each holding one network evaluation; the schedule's
 * scalars (sigmas, churn, solver coefficients) are computed in Java and fed. Noise levels are
 * scalars, broadcast over the batch.
 */
public final class EdmSteps {
  private EdmSteps() {}

  /** An Euler step from sigma to sigmaNext after churn: the new sample, its denoised estimate, and what Heun's correction needs. */
  public record Euler(Operand<TFloat32> next, Operand<TFloat32> denoised, Operand<TFloat32> xHat, Operand<TFloat32> slope) {}

  /** A step's new sample and the denoised estimate it used. */
  public record Step(Operand<TFloat32> next, Operand<TFloat32> denoised) {}

  /**
   * Algorithm 2, lines 4-8: raise the noise to sigmaHat = (1 + gamma) sigma by adding
   * churnStd * noise (churnStd = sqrt(sigmaHat^2 - sigma^2) S_noise), then step along
   * d = (x_hat - D(x_hat; sigmaHat)) / sigmaHat to sigmaNext.
   */
  public static Euler eulerWithChurn(Ops tf, ElucidatedDiffusion d, Operand<TFloat32> x, Operand<TFloat32> sigmaHat,
      Operand<TFloat32> sigmaNext, Operand<TFloat32> churnStd, Operand<TFloat32> noise, Operand<TFloat32> selfCond,
      Operand<TInt64> classLabels) {
    Operand<TFloat32> xHat = tf.math.add(x, tf.math.mul(churnStd, noise));
    Operand<TFloat32> denoised = d.denoise(tf, xHat, batchOf(tf, x, sigmaHat), selfCond, classLabels, true, Forward.inference());
    Operand<TFloat32> slope = tf.math.div(tf.math.sub(xHat, denoised), sigmaHat);
    Operand<TFloat32> next = tf.math.add(xHat, tf.math.mul(tf.math.sub(sigmaNext, sigmaHat), slope));
    return new Euler(next, denoised, xHat, slope);
  }

  /** Algorithm 2, lines 9-11: Heun's correction with the slope at (xEuler, sigmaNext > 0). */
  public static Step heunCorrection(Ops tf, ElucidatedDiffusion d, Operand<TFloat32> xEuler, Operand<TFloat32> xHat,
      Operand<TFloat32> slope, Operand<TFloat32> sigmaHat, Operand<TFloat32> sigmaNext, Operand<TFloat32> selfCond,
      Operand<TInt64> classLabels) {
    Operand<TFloat32> denoised = d.denoise(tf, xEuler, batchOf(tf, xEuler, sigmaNext), selfCond, classLabels, true,
        Forward.inference());
    Operand<TFloat32> slopeNext = tf.math.div(tf.math.sub(xEuler, denoised), sigmaNext);
    Operand<TFloat32> next = tf.math.add(xHat, tf.math.mul(tf.math.mul(tf.constant(0.5f), tf.math.sub(sigmaNext, sigmaHat)),
        tf.math.add(slope, slopeNext)));
    return new Step(next, denoised);
  }

  /**
   * DPM-Solver++(2M): x_next = a x + b (wNew D(x; sigma) + wOld D_previous), with a =
   * sigmaNext / sigma, b = -expm1(-h) and the multistep weights from the ratio of the last two
   * step sizes in log-sigma.
   */
  public static Step dpmpp2m(Ops tf, ElucidatedDiffusion d, Operand<TFloat32> x, Operand<TFloat32> sigma,
      Operand<TFloat32> previous, Operand<TFloat32> a, Operand<TFloat32> b, Operand<TFloat32> wNew,
      Operand<TFloat32> wOld, Operand<TFloat32> selfCond, Operand<TInt64> classLabels) {
    Operand<TFloat32> denoised = d.denoise(tf, x, batchOf(tf, x, sigma), selfCond, classLabels, false, Forward.inference());
    Operand<TFloat32> mix = tf.math.add(tf.math.mul(wNew, denoised), tf.math.mul(wOld, previous));
    return new Step(tf.math.add(tf.math.mul(a, x), tf.math.mul(b, mix)), denoised);
  }

  /** A scalar repeated for every example of {@code like}'s batch: [N]. */
  static Operand<TFloat32> batchOf(Ops tf, Operand<TFloat32> like, Operand<TFloat32> scalar) {
    Operand<TInt32> batch = tf.slice(tf.shape(like), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    return tf.fill(batch, scalar);
  }
}
