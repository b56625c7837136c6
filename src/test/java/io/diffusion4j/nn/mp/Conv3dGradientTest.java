package io.diffusion4j.nn.mp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;

/**
 * The Conv3D gradient registered from Java agrees with finite differences, for both inputs, for
 * the "same" convolution the Karras U-Nets use and for a strided "valid" one (attributes are
 * passed through). In float64: L = sum(conv(x, w) * R) is bilinear, so the central difference
 * (L(p + h) - L(p - h)) / 2h is exact up to rounding (~1e-13 here); the tolerance is 1e-9.
 * Registering twice is harmless.
 */
class Conv3dGradientTest {

  @Test
  void sameConvolution() {
    check(new long[] {2, 3, 4, 5, 2}, new long[] {3, 3, 3, 2, 3}, List.of(1L, 1L, 1L, 1L, 1L), "SAME");
  }

  @Test
  void stridedValidConvolution() {
    check(new long[] {1, 5, 6, 7, 2}, new long[] {2, 3, 2, 2, 4}, List.of(1L, 2L, 1L, 2L, 1L), "VALID");
  }

  @SuppressWarnings("unchecked")
  private static void check(long[] xShape, long[] wShape, List<Long> strides, String padding) {
    Conv3dGradient.ensureRegistered();
    Conv3dGradient.ensureRegistered();
    double[] x = random(1, size(xShape));
    double[] w = random(2, size(wShape));
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat64> px = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(xShape)));
      Placeholder<TFloat64> pw = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(wShape)));
      Operand<TFloat64> y = tf.nn.conv3d(px, pw, strides, padding);
      double[] r = random(3, size(y.shape().asArray()));
      Operand<TFloat64> loss = tf.reduceSum(tf.math.mul(y, tf.constant(Shape.of(y.shape().asArray()),
          DataBuffers.of(r, true, false))), tf.constant(new int[] {0, 1, 2, 3, 4}));
      List<Output<?>> grads = tf.gradients(loss, List.of(px, pw)).dy();
      double[][] analytic = new double[2][];
      try (TFloat64 tx = tensor(xShape, x); TFloat64 tw = tensor(wShape, w);
          Result res = s.runner().feed(px, tx).feed(pw, tw).fetch(grads.get(0)).fetch(grads.get(1)).run()) {
        for (int i = 0; i < 2; i++) {
          TFloat64 t = (TFloat64) res.get(i);
          analytic[i] = new double[(int) t.size()];
          t.asRawTensor().data().asDoubles().read(analytic[i]);
        }
      }
      double h = 0.5;
      int nonzero = 0;
      for (int which = 0; which < 2; which++) {
        double[] p = which == 0 ? x : w;
        for (int idx = 0; idx < p.length; idx += Math.max(1, p.length / 23)) {
          double keep = p[idx];
          p[idx] = keep + h;
          double up = loss(s, px, pw, xShape, wShape, x, w, loss);
          p[idx] = keep - h;
          double down = loss(s, px, pw, xShape, wShape, x, w, loss);
          p[idx] = keep;
          double numeric = (up - down) / (2 * h);
          assertEquals(numeric, analytic[which][idx], 1e-9, (which == 0 ? "d input[" : "d filter[") + idx + "]");
          nonzero += Math.abs(numeric) > 1e-3 ? 1 : 0;
        }
      }
      assertTrue(nonzero > 30, "too few nonzero gradients checked: " + nonzero);
    }
  }

  private static double loss(Session s, Placeholder<TFloat64> px, Placeholder<TFloat64> pw, long[] xShape,
      long[] wShape, double[] x, double[] w, Operand<TFloat64> loss) {
    try (TFloat64 tx = tensor(xShape, x); TFloat64 tw = tensor(wShape, w);
        Result res = s.runner().feed(px, tx).feed(pw, tw).fetch(loss).run()) {
      return ((TFloat64) res.get(0)).getDouble();
    }
  }

  private static TFloat64 tensor(long[] shape, double[] data) {
    return TFloat64.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
  }

  private static double[] random(long seed, int n) {
    Random r = new Random(seed);
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextGaussian();
    }
    return a;
  }

  private static int size(long[] shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    return n;
  }
}
