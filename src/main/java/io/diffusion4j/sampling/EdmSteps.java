package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.ElucidatedDiffusion;
import io.diffusion4j.nn.Forward;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The EDM sampler steps as graph maths, each holding one network evaluation, and the per-step
 * scalars they take (sigmas, churn, solver coefficients), computed in Java in double precision
 * and rounded to float once, so that the session loop and the in-graph loop see the same values.
 * Noise levels are scalars, broadcast over the batch.
 */
public final class EdmSteps {
  private EdmSteps() {}

  /** Step i of Algorithm 2: the raised level (1 + gamma_i) sigma_i, the next level, the churn noise's std. */
  public record Churn(float sigmaHat, float sigmaNext, float churnStd) {}

  /** Step i of DPM-Solver++(2M): x_next = a x + b (wNew D(x; sigma) + wOld D_previous). */
  public record Dpmpp(float sigma, float a, float b, float wNew, float wOld) {}

  /** The churn steps over {@code sigmas} (the sampling schedule, ending in 0). */
  public static List<Churn> churnSteps(ElucidatedDiffusion d, double[] sigmas) {
    double[] gammas = d.churn(sigmas);
    List<Churn> steps = new ArrayList<>();
    for (int i = 0; i < sigmas.length - 1; i++) {
      double hat = sigmas[i] * (1 + gammas[i]);
      double std = Math.sqrt(Math.max(hat * hat - sigmas[i] * sigmas[i], 0)) * d.config().sNoise();
      steps.add(new Churn((float) hat, (float) sigmas[i + 1], (float) std));
    }
    return steps;
  }

  /**
   * DPM-Solver++(2M) in log-sigma time t = -ln(sigma), first order on the first step; the last
   * step (to sigma 0) lands on the denoised estimate (a = 0, b = 1).
   */
  public static List<Dpmpp> dpmppSteps(double[] sigmas) {
    List<Dpmpp> steps = new ArrayList<>();
    for (int i = 0; i < sigmas.length - 1; i++) {
      double s = sigmas[i];
      double next = sigmas[i + 1];
      double h = -Math.log(next) + Math.log(s);
      double weightOld = 0;
      if (i > 0 && next > 0) {
        double hLast = Math.log(sigmas[i - 1]) - Math.log(s);
        weightOld = -1 / (2 * hLast / h);
      }
      steps.add(new Dpmpp((float) s, (float) (next / s), (float) -Math.expm1(-h), (float) (1 - weightOld),
          (float) weightOld));
    }
    return steps;
  }

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
