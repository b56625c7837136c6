package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Conditioning;
import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.models.Network;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The exact denoiser of data ~ N(mu, s^2) per value, D(x; sigma) = mu + s^2 / (s^2 + sigma^2)
 * (x - mu), between sigma_min and sigma_max (by default EDM's 0.002 and 80; Eq. 5 of Karras et
 * al. as its own schedule). Its probability-flow ODE has a closed-form solution, so a solver's error is known
 * exactly: from x at sigma_max it ends at mu + (x - mu) s / sqrt(s^2 + sigma_max^2).
 */
record GaussianData(double mu, double s, long length, double sigmaMin, double sigmaMax) implements Denoiser {
  GaussianData(double mu, double s, long length) {
    this(mu, s, length, 0.002, 80);
  }

  @Override
  public long[] sampleShape() {
    return new long[] {length, 1};
  }

  @Override
  public Operand<TFloat32> denoise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> sigma, Conditioning c,
      boolean clamp) {
    Operand<TFloat32> s2 = tf.constant((float) (s * s));
    Operand<TFloat32> shrink = tf.math.div(s2, tf.math.add(s2, tf.math.square(sigma)));
    return tf.math.add(tf.constant((float) mu), tf.math.mul(shrink, tf.math.sub(x, tf.constant((float) mu))));
  }

  @Override
  public double[] ownSigmas(int steps) {
    return Schedule.KARRAS.sigmas(this, steps);
  }

  @Override
  public double startScale(double sigma) {
    return sigma;
  }

  /** The samples as they are, unclamped: the tests measure them. */
  @Override
  public Operand<TFloat32> images(Ops tf, Operand<TFloat32> x) {
    return tf.identity(x);
  }

  @Override
  public Network network() {
    return null;
  }

  /** Where the ODE carries a start x0 at sigma_max. */
  double exact(double start) {
    return mu + (start - mu) * s / Math.sqrt(s * s + sigmaMax * sigmaMax);
  }
}
