package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Conditioning;
import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.nn.Value;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * What a solver's step works with, handed over by the driver that runs it: the denoiser
 * D(x; sigma) with the run's conditioning (the class labels; for a self-conditioned network the
 * previous estimate, which each evaluation updates), whether D clamps its estimate to the data's
 * range, and the step's own seeded noise.
 */
public final class Step {
  /** Noise draws a step may make: each has a stream of its own. */
  static final int DRAWS_PER_STEP = 4;

  private final Ops tf;
  private final Denoiser denoiser;
  private final Operand<TInt64> classLabels;
  private final Guidance guidance;
  private final Operand<TFloat32> condScale;
  private final boolean clamp;
  private final Operand<TInt64> seed;
  private final Operand<TInt64> index;
  private final Operand<TInt64> first;
  private final Operand<TFloat32> like;
  private Operand<TFloat32> estimate;
  private int draws;

  /**
   * @param guidance classifier-free guidance's settings, or null to evaluate plainly
   * @param condScale float32 scalar, its scale (with guidance only)
   * @param clamp whether D's estimate is clamped to [-1, 1] ({@link Settings#clipDenoised})
   * @param estimate the last x0 estimate (self-conditioned networks), else null
   * @param index int64 scalar, the step's index in the run
   * @param first int64 scalar, the index in the run of the batch's first image
   * @param like a tensor of the sample's shape
   */
  Step(Ops tf, Denoiser denoiser, Operand<TInt64> classLabels, Guidance guidance, Operand<TFloat32> condScale,
      boolean clamp, Operand<TFloat32> estimate, Operand<TInt64> seed, Operand<TInt64> index, Operand<TInt64> first,
      Operand<TFloat32> like) {
    this.tf = tf;
    this.denoiser = denoiser;
    this.classLabels = classLabels;
    this.guidance = guidance;
    this.condScale = condScale;
    this.clamp = clamp;
    this.estimate = estimate;
    this.seed = seed;
    this.index = index;
    this.first = first;
    this.like = like;
  }

  /**
   * D(x; sigma) and the noise to re-noise with, for DDIM-type steps (they differ from (x - D) /
   * sigma under CFG++), and a learned variance's interpolation fraction (null for most models).
   */
  public record Estimate(Value denoised, Value noise, Value varianceFrac) {}

  /** D(x; sigma), the estimate of x0 at noise level sigma (a scalar). */
  public Value denoise(Value x, Value sigma) {
    Operand<TFloat32> d = denoiser.denoise(tf, x.operand(), sigma.operand(), conditioning(), clamp);
    return Value.of(tf, keep(d));
  }

  /** Both estimates of one evaluation at (x, sigma). */
  public Estimate estimate(Value x, Value sigma) {
    Denoiser.Estimate e = denoiser.estimate(tf, x.operand(), sigma.operand(), conditioning(), clamp);
    return new Estimate(Value.of(tf, keep(e.denoised())), Value.of(tf, e.noise()),
        e.varianceFrac() == null ? null : Value.of(tf, e.varianceFrac()));
  }

  private Conditioning conditioning() {
    return new Conditioning(estimate, classLabels, guidance, condScale);
  }

  /** The estimate, kept for the next evaluation's self-conditioning. */
  private Operand<TFloat32> keep(Operand<TFloat32> d) {
    if (estimate != null) {
      estimate = d;
    }
    return d;
  }

  /** The probability-flow ODE's dx/dsigma at (x, sigma): (x - D(x; sigma)) / sigma (k-diffusion's to_d). */
  public Value slope(Value x, Value sigma) {
    return x.minus(denoise(x, sigma)).div(sigma);
  }

  /** A fresh standard-normal draw of the sample's shape: each image's own, this step's own. */
  public Value noise() {
    if (draws == DRAWS_PER_STEP) {
      throw new IllegalStateException("a step draws noise at most " + DRAWS_PER_STEP + " times");
    }
    Operand<TInt64> stream = tf.math.add(tf.math.mul(index, tf.constant((long) DRAWS_PER_STEP)),
        tf.constant((long) draws++));
    return Value.of(tf, ImageNoise.like(tf, like, seed, stream, first, denoiser.sampleShape()));
  }

  /** The last estimate of x0, for the next step's self-conditioning (null when the network takes none). */
  Operand<TFloat32> estimate() {
    return estimate;
  }
}
