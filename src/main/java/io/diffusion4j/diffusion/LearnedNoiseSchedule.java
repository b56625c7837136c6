package io.diffusion4j.diffusion;

import io.diffusion4j.nn.Init;
import io.diffusion4j.nn.ParamLayout;
import io.diffusion4j.nn.ParamScope;
import io.diffusion4j.nn.Tensors;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Squeeze;
import org.tensorflow.types.TFloat32;

/**
 * The learned schedule of Kingma et al. 2021 (appendix H, I.2): a monotone network
 * l(t) = m1(t) + m3(sigmoid(m2(m1(t)))), each m a linear layer with |weights| and |bias|,
 * rescaled so that its ends are the linear schedule's: log_snr(0) = log_snr_max and log_snr(1) =
 * log_snr_min. {@code frac_gradient} scales the gradient that reaches it. Its parameters sit
 * under {@code log_snr.} beside the network's, named as the reference's module names them.
 */
final class LearnedNoiseSchedule implements LogSnrSchedule {
  private final MonotonicLinear m1;
  private final MonotonicLinear m2;
  private final MonotonicLinear m3;
  private final double intercept;
  private final double slope;
  private final double fracGradient;
  private Session session;

  LearnedNoiseSchedule(ParamScope scope, int hiddenDim, double fracGradient) {
    ParamScope net = scope.child("net");
    this.m1 = new MonotonicLinear(net.child(1).child("net"), 1, 1);
    this.m2 = new MonotonicLinear(net.child(2).child("fn").child(0).child("net"), 1, hiddenDim);
    this.m3 = new MonotonicLinear(net.child(2).child("fn").child(2).child("net"), hiddenDim, 1);
    LogSnrSchedule linear = LogSnrSchedule.linear();
    this.intercept = linear.at(0);
    this.slope = linear.at(1) - intercept;
    this.fracGradient = fracGradient;
  }

  /** The session holding its variables, which {@link #at} reads. */
  void attach(Session session) {
    this.session = session;
  }

  @Override
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> t) {
    // constants: TensorFlow has no gradient for ZerosLike/OnesLike
    Operand<TFloat32> zero = net(tf, tf.constant(new float[] {0}));
    Operand<TFloat32> one = net(tf, tf.constant(new float[] {1}));
    Operand<TFloat32> normed = tf.math.add(tf.math.mul(tf.constant((float) slope),
        tf.math.div(tf.math.sub(net(tf, t), zero), tf.math.sub(one, zero))), tf.constant((float) intercept));
    if (fracGradient == 1) {
      return normed;
    }
    return tf.math.add(tf.math.mul(normed, tf.constant((float) fracGradient)),
        tf.math.mul(tf.stopGradient(normed), tf.constant((float) (1 - fracGradient))));
  }

  /** [N] to [N]. */
  private Operand<TFloat32> net(Ops tf, Operand<TFloat32> t) {
    Operand<TFloat32> x = m1.apply(tf, tf.expandDims(t, tf.constant(-1)));
    Operand<TFloat32> residual = m3.apply(tf, tf.math.sigmoid(m2.apply(tf, x)));
    return tf.squeeze(tf.math.add(x, residual), Squeeze.axis(List.of(-1L)));
  }

  /** Fixed by the rescaling, whatever the weights. */
  @Override
  public double[] ends() {
    return new double[] {intercept, intercept + slope};
  }

  @Override
  public double at(double t) {
    return at(new double[] {t})[0];
  }

  /** Reads the current weights once for all times. */
  @Override
  public double[] at(double[] times) {
    if (session == null) {
      throw new IllegalStateException("a learned noise schedule reads its levels from the session holding its weights,"
          + " and none is attached");
    }
    float[][] w = new float[6][];
    List<Operand<TFloat32>> ops = List.of(m1.weight, m1.bias, m2.weight, m2.bias, m3.weight, m3.bias);
    Session.Runner runner = session.runner();
    ops.forEach(runner::fetch);
    try (Result r = runner.run()) {
      for (int i = 0; i < w.length; i++) {
        w[i] = Tensors.toArray((TFloat32) r.get(i)).data();
      }
    }
    double zero = net(w, 0);
    double one = net(w, 1);
    double[] out = new double[times.length];
    for (int i = 0; i < times.length; i++) {
      out[i] = slope * (net(w, times[i]) - zero) / (one - zero) + intercept;
    }
    return out;
  }

  /** The network in Java, from weights in TensorFlow's layout ([in, out]). */
  private static double net(float[][] w, double t) {
    double x = Math.abs(w[0][0]) * t + Math.abs(w[1][0]);
    double residual = Math.abs(w[5][0]);
    for (int j = 0; j < w[3].length; j++) {
      double h = Math.abs(w[2][j]) * x + Math.abs(w[3][j]);
      residual += Math.abs(w[4][j]) / (1 + Math.exp(-h));
    }
    return x + residual;
  }

  /** The reference's MonotonicLinear: nn.Linear applied with the absolute values of its weights and bias. */
  private static final class MonotonicLinear {
    final Operand<TFloat32> weight;
    final Operand<TFloat32> bias;

    MonotonicLinear(ParamScope s, int in, int out) {
      double bound = 1 / Math.sqrt(in);
      weight = s.param("weight", ParamLayout.linear(in, out), Init.uniform(bound));
      bias = s.param("bias", ParamLayout.same(out), Init.uniform(bound));
    }

    Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
      return tf.nn.biasAdd(tf.linalg.matMul(x, tf.math.abs(weight)), tf.math.abs(bias));
    }
  }
}
