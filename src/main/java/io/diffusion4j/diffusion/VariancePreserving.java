package io.diffusion4j.diffusion;

import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Value;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A variance-preserving diffusion seen as a denoiser, as k-diffusion's DiscreteEpsDDPMDenoiser and
 * DiscreteVDDPMDenoiser see one: its noisy sample x_t = alpha x0 + s eps, with alpha^2 + s^2 = 1,
 * is divided by alpha into the samplers' x = x0 + sigma eps, sigma = s / alpha. So D(x; sigma)
 * gives the network x_t = c_in x with c_in = alpha = 1 / sqrt(1 + sigma^2) and its own input for
 * that noise level, and reads x0 from its output as the output's {@link Reading} says. Every
 * Gaussian type, discrete or continuous in time, is one; only the network's noise-level input
 * and the reading differ.
 */
public abstract class VariancePreserving implements Diffusion {

  /**
   * A sample at one noise level in both views: x_t as the network sees it, x = x_t / alpha as the
   * samplers do, with alpha (= c_in) and sigma of that level (scalars, or one per example).
   */
  public record Level(Value x, Value xt, Value alpha, Value sigma) {

    /** The samplers' x at noise level sigma: alpha = 1 / sqrt(1 + sigma^2). */
    public static Level of(Value x, Value sigma) {
      Value alpha = sigma.square().plus(1).rsqrt();
      return new Level(x, x.times(alpha), alpha, sigma);
    }

    /** The noise that an estimate of x0 implies here: eps = (x - x0) / sigma. */
    public Value noise(Value x0) {
      return x.minus(x0).div(sigma);
    }
  }

  /** What a network's output is: how it gives x0 at a level, and what else it says. */
  public interface Reading {

    /** The estimate of x0 from the network's output {@code out} at {@code at}. */
    Value x0(Level at, Value out);

    /**
     * The noise the output states itself (an eps-prediction's), which the reference passes on as
     * it is unless it clamps x0 and re-derives the noise; null where the noise follows from x0.
     */
    default Value statedNoise(Value out) {
      return null;
    }

    /**
     * Where the ancestral step's log-variance lies between the posterior's (0) and beta's (1), for
     * a network that learns its variance (Nichol and Dhariwal 2021, Eq. 15); else null.
     */
    default Value varianceFrac(Value out) {
      return null;
    }
  }

  /** How this diffusion's network output reads. */
  abstract Reading reading();

  /** The network's noise-level input at the scalar noise level {@code sigma}. */
  abstract Operand<TFloat32> networkTime(Ops tf, Operand<TFloat32> sigma);

  /** x_T is the standard-normal draw: in the sigma view, x = x_T sqrt(1 + sigma^2). */
  @Override
  public final double startScale(double sigma) {
    return Math.sqrt(1 + sigma * sigma);
  }

  @Override
  public final Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning c,
      boolean clamp) {
    return estimate(tf, x, sigma, c, clamp).denoised();
  }

  /**
   * The network's estimate of x0 at x and the scalar sigma, with {@code clamp} clamped to [-1, 1]
   * as the reference's samplers clamp it, and the noise to re-noise with: the one the (clamped)
   * estimate implies (as the reference's 2-D DDIM re-derives it; its classifier_free_guidance
   * module does not, see the README), under CFG++ the (clamped) unconditional estimate's.
   */
  @Override
  public final Estimate estimate(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning c,
      boolean clamp) {
    Level at = Level.of(Value.of(tf, x), Value.of(tf, sigma));
    Operand<TInt32> batch = tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    Guidance.Outputs out = Guidance.evaluate(tf, network(), at.xt().operand(), tf.fill(batch, networkTime(tf, sigma)),
        c, Forward.inference());
    Value output = Value.of(tf, out.out());
    Value denoised = clamped(reading().x0(at, output), clamp);
    Value renoised = samplingDefaults().cfgPlusPlus() && out.uncond() != null
        ? clamped(reading().x0(at, Value.of(tf, out.uncond())), clamp) : denoised;
    Value varianceFrac = reading().varianceFrac(output);
    return new Estimate(denoised.operand(), at.noise(renoised).operand(),
        varianceFrac == null ? null : varianceFrac.operand());
  }

  private static Value clamped(Value x0, boolean clamp) {
    return clamp ? x0.clamp(-1, 1) : x0;
  }
}
