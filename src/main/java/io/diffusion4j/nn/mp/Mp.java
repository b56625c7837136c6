package io.diffusion4j.nn.mp;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.types.TFloat32;

/**
 * The magnitude-preserving primitives of Karras et al. 2023, "Analyzing and Improving the
 * Training Dynamics of Diffusion Models" (EDM2), as graph functions on channels-last tensors.
 * Each keeps an input of unit magnitude (mean square 1 per element) at unit magnitude.
 * Equation numbers are the paper's.
 */
public final class Mp {
  /** Epsilon of the pixel norm and of the weight normalisation (the paper's 1e-4). */
  public static final double EPS = 1e-4;

  private Mp() {}

  /** Magnitude-preserving SiLU (Equation 81): silu(x) / 0.596. */
  public static Operand<TFloat32> silu(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(tf.math.mul(x, tf.math.sigmoid(x)), tf.constant((float) (1 / 0.596)));
  }

  /** Magnitude-preserving sum (Equation 88): ((1 - t) a + t b) / sqrt((1 - t)^2 + t^2). */
  public static Operand<TFloat32> add(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b, double t) {
    double den = Math.sqrt((1 - t) * (1 - t) + t * t);
    return tf.math.add(tf.math.mul(a, tf.constant((float) ((1 - t) / den))),
        tf.math.mul(b, tf.constant((float) (t / den))));
  }

  /** Magnitude-preserving concatenation along channels (Equation 103): halves weighted (1 - t) : t. */
  public static Operand<TFloat32> cat(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b, double t) {
    long na = channels(a);
    long nb = channels(b);
    double c = Math.sqrt((na + nb) / ((1 - t) * (1 - t) + t * t));
    Operand<TFloat32> wa = tf.math.mul(a, tf.constant((float) (c * (1 - t) / Math.sqrt(na))));
    Operand<TFloat32> wb = tf.math.mul(b, tf.constant((float) (c * t / Math.sqrt(nb))));
    return tf.concat(List.of(wa, wb), tf.constant(-1));
  }

  /** Pixel norm (Equation 30): each position's channels to norm sqrt(C), x / max(|x|, 1e-4) * sqrt(C). */
  public static Operand<TFloat32> pixelNorm(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(normalize(tf, x, -1), tf.constant((float) Math.sqrt(channels(x))));
  }

  /**
   * Forced weight normalisation (Equation 66, Algorithm 1): each output unit's weights to norm
   * sqrt(fan_in), w / max(|w_o|, 1e-4) * sqrt(fan_in).
   *
   * @param w a weight in TensorFlow layout: output units on the last axis, everything else
   *     (inputs, kernel taps) is that unit's fan-in
   */
  public static Operand<TFloat32> normalizeWeight(Ops tf, Operand<TFloat32> w) {
    long[] shape = w.shape().asArray();
    long fanIn = 1;
    int[] axes = new int[shape.length - 1];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i;
      fanIn *= shape[i];
    }
    return tf.math.mul(normalize(tf, w, axes), tf.constant((float) Math.sqrt(fanIn)));
  }

  /**
   * x / max(|x|, 1e-4) over {@code axes}, as F.normalize. The sum of squares is written x * x:
   * differentiating TensorFlow's Square op applied directly to a (VariableV2) weight crashed the
   * JVM (SIGSEGV in TF_AddGradientsWithPrefix, TensorFlow Java 1.1.0, measured on this machine;
   * Square of a computed tensor, and Mul, are fine).
   */
  static Operand<TFloat32> normalize(Ops tf, Operand<TFloat32> x, int... axes) {
    Operand<TFloat32> sumSq = tf.reduceSum(tf.math.mul(x, x), tf.constant(axes), ReduceSum.keepDims(true));
    return tf.math.mul(x, tf.math.rsqrt(tf.math.maximum(sumSq, tf.constant((float) (EPS * EPS)))));
  }

  static long channels(Operand<TFloat32> x) {
    long c = x.shape().get(x.shape().numDimensions() - 1);
    if (c <= 0) {
      throw new IllegalArgumentException("the channel (last) axis must have a known size, got shape " + x.shape());
    }
    return c;
  }
}
