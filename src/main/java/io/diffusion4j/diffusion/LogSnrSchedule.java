package io.diffusion4j.diffusion;

import java.util.function.BiFunction;
import java.util.function.DoubleUnaryOperator;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A continuous noise schedule: the log signal-to-noise ratio log(alpha^2 / sigma^2) at time t in
 * [0, 1], falling with t (Kingma et al. 2021). The data is noised as alpha x0 + sigma eps with
 * alpha^2 = sigmoid(log_snr), sigma^2 = sigmoid(-log_snr).
 */
public interface LogSnrSchedule {

  /** log-SNR at each time of {@code t}, in the graph. */
  Operand<TFloat32> apply(Ops tf, Operand<TFloat32> t);

  /**
   * log-SNR at one time, in float32 arithmetic as the reference's tensors compute it: where a
   * schedule has a pole (the cosine's at t = 1), its end value is that rounding's.
   */
  double at(double t);

  /** log-SNR at each of {@code times}. */
  default double[] at(double[] times) {
    double[] out = new double[times.length];
    for (int i = 0; i < times.length; i++) {
      out[i] = at(times[i]);
    }
    return out;
  }

  /** log-SNR at t = 0 and t = 1. */
  default double[] ends() {
    return at(new double[] {0, 1});
  }

  /** Kingma et al.'s fit of DDPM's linear betas: -log(expm1(1e-4 + 10 t^2)). */
  static LogSnrSchedule linear() {
    return of((tf, t) -> neg(tf, log(tf, tf.math.expm1(tf.math.add(tf.constant(1e-4f),
            tf.math.mul(tf.constant(10f), tf.math.square(t)))), 1e-20f)),
        t -> -logf(f(Math.expm1(f(1e-4f + f(10f * f(f(t) * f(t)))))), 1e-20f));
  }

  /** Nichol and Dhariwal's cosine: -log(cos((t + s) / (1 + s) pi / 2)^-2 - 1), s = 0.008, clamped at 1e-5. */
  static LogSnrSchedule alphaCosine() {
    float s = 0.008f;
    return of((tf, t) -> {
      Operand<TFloat32> angle = tf.math.mul(tf.math.mul(tf.math.div(tf.math.add(t, tf.constant(s)),
          tf.constant(1 + s)), tf.constant((float) Math.PI)), tf.constant(0.5f));
      Operand<TFloat32> c = tf.math.cos(angle);
      return neg(tf, log(tf, tf.math.sub(tf.math.reciprocal(tf.math.square(c)), tf.constant(1f)), 1e-5f));
    }, t -> {
      float angle = f(f(f(f(f(t) + s) / (1 + s)) * (float) Math.PI) * 0.5f);
      float c = f(Math.cos(angle));
      return -logf(f(f(1f / f(c * c)) - 1f), 1e-5f);
    });
  }

  /**
   * simple diffusion's cosine (Hoogeboom et al. 2023): -2 log(tan(t_min + t (t_max - t_min))),
   * whose ends are logsnr_max at t = 0 and logsnr_min at t = 1.
   */
  static LogSnrSchedule cosine(double logSnrMin, double logSnrMax) {
    double tMin = Math.atan(Math.exp(-0.5 * logSnrMax));
    double tMax = Math.atan(Math.exp(-0.5 * logSnrMin));
    return of((tf, t) -> tf.math.mul(tf.constant(-2f), log(tf, tf.math.tan(tf.math.add(tf.constant((float) tMin),
            tf.math.mul(t, tf.constant((float) (tMax - tMin))))), 1e-20f)),
        t -> f(-2f * logf(f(Math.tan(f((float) tMin + f(f(t) * (float) (tMax - tMin))))), 1e-20f)));
  }

  /** This schedule plus a constant: the shift 2 log(noise_d / image_d) of simple diffusion's Sec. 3.1. */
  default LogSnrSchedule shifted(double shift) {
    LogSnrSchedule base = this;
    return of((tf, t) -> tf.math.add(base.apply(tf, t), tf.constant((float) shift)), t -> f(base.at(t) + (float) shift));
  }

  /** t low(t) + (1 - t) high(t): simple diffusion's interpolated schedule (Sec. 3.2). */
  static LogSnrSchedule interpolated(LogSnrSchedule low, LogSnrSchedule high) {
    return of((tf, t) -> tf.math.add(tf.math.mul(t, low.apply(tf, t)),
            tf.math.mul(tf.math.sub(tf.constant(1f), t), high.apply(tf, t))),
        t -> f(f(f(t) * f(low.at(t))) + f(f(1f - f(t)) * f(high.at(t)))));
  }

  private static LogSnrSchedule of(BiFunction<Ops, Operand<TFloat32>, Operand<TFloat32>> graph, DoubleUnaryOperator java) {
    return new LogSnrSchedule() {
      @Override
      public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> t) {
        return graph.apply(tf, t);
      }

      @Override
      public double at(double t) {
        return java.applyAsDouble(t);
      }
    };
  }

  /** The reference's log: log(clamp(x, min = eps)). */
  private static Operand<TFloat32> log(Ops tf, Operand<TFloat32> x, float eps) {
    return tf.math.log(tf.math.maximum(x, tf.constant(eps)));
  }

  private static Operand<TFloat32> neg(Ops tf, Operand<TFloat32> x) {
    return tf.math.neg(x);
  }

  private static float logf(float x, float eps) {
    return f(Math.log(Math.max(x, eps)));
  }

  private static float f(double v) {
    return (float) v;
  }
}
