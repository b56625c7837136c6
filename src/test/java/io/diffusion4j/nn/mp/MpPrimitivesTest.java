package io.diffusion4j.nn.mp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.diffusion4j.Statistical;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The magnitude-preserving operations keep unit magnitude: for unit-variance input the mean
 * square of the output is 1.
 *
 * <p>Tolerance from the sample size: the mean square m of n independent outputs has standard
 * error se = sd(y^2) / sqrt(n), estimated from the same sample; each statistical check accepts
 * |m - E| <= 5 se (a false failure has probability ~6e-7 per check). With n = 2^20 Gaussian
 * outputs, sd(y^2) = sqrt(2), so 5 se ~ 0.007. Where the output is 1 by construction (pixel norm,
 * Fourier features, normalised weights) the tolerance is float32 rounding, 1e-5 relative.
 */
class MpPrimitivesTest {
  private static final int N = 1 << 20;

  @Test
  void mpSiluHasUnitMagnitude() {
    float[] x = normal(1, N);
    float[] y = eval(List.of(x), new long[][] {{N}}, (tf, in) -> Mp.silu(tf, in.get(0)));
    // E[silu(x)^2] for x ~ N(0, 1) by quadrature: the paper's 0.596 is sqrt of it to 3 digits
    double exact = 0;
    double h = 1e-3;
    for (double t = -12; t < 12; t += h) {
      double s = t / (1 + Math.exp(-t));
      exact += s * s * Math.exp(-t * t / 2) / Math.sqrt(2 * Math.PI) * h;
    }
    exact /= 0.596 * 0.596;
    assertEquals(1, exact, 2e-3, "0.596 normalises silu to unit magnitude up to its rounding");
    assertMeanSquare(exact, y);
  }

  @Test
  void mpAddHasUnitMagnitude() {
    float[] a = normal(2, N);
    float[] b = normal(3, N);
    for (double t : new double[] {0, 0.3, 0.5, 0.8}) {
      float[] y = eval(List.of(a, b), new long[][] {{N}, {N}}, (tf, in) -> Mp.add(tf, in.get(0), in.get(1), t));
      assertMeanSquare(1, y);
    }
  }

  @Test
  void mpCatHasUnitMagnitudeAndWeighsItsHalves() {
    int rows = N / 64;
    float[] a = normal(4, rows * 48);
    float[] b = normal(5, rows * 16);
    for (double t : new double[] {0.3, 0.5}) {
      float[] y = eval(List.of(a, b), new long[][] {{rows, 48}, {rows, 16}},
          (tf, in) -> Mp.cat(tf, in.get(0), in.get(1), t));
      assertMeanSquare(1, y);
      // the a channels carry (1 - t)^2 / ((1 - t)^2 + t^2) of the energy
      double ea = 0;
      double total = 0;
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < 64; c++) {
          double v = y[r * 64 + c];
          total += v * v;
          ea += c < 48 ? v * v : 0;
        }
      }
      double share = (1 - t) * (1 - t) / ((1 - t) * (1 - t) + t * t);
      assertEquals(share, ea / total, 0.01);
    }
  }

  @Test
  void pixelNormGivesEveryPositionUnitMagnitude() {
    int c = 24;
    float[] x = normal(6, 4096 * c);
    for (int i = 0; i < x.length; i++) {
      x[i] *= 7;   // any input magnitude
    }
    float[] y = eval(List.of(x), new long[][] {{64, 64, c}}, (tf, in) -> Mp.pixelNorm(tf, in.get(0)));
    for (int p = 0; p < 4096; p++) {
      double ms = 0;
      for (int k = 0; k < c; k++) {
        ms += y[p * c + k] * y[p * c + k];
      }
      assertEquals(1, ms / c, 1e-5);
    }
  }

  @Test
  void fourierFeaturesHaveUnitMagnitudeForAnyTime() {
    float[] t = normal(7, 1000);
    for (int i = 0; i < t.length; i++) {
      t[i] *= 50;
    }
    float[] y = evalLayer(List.of(t), new long[][] {{1000}}, (tf, in) -> {
      Parameters p = new Parameters(tf);
      MpFourierEmbedding f = new MpFourierEmbedding(p.scope(), 16);
      return new Built(p, f.apply(tf, in.get(0)));
    });
    for (int r = 0; r < 1000; r++) {
      double ms = 0;
      for (int k = 0; k < 16; k++) {
        ms += y[r * 16 + k] * y[r * 16 + k];
      }
      assertEquals(1, ms / 16, 1e-5);
    }
  }

  @Test
  void normalizedWeightsHaveNormSqrtFanInPerOutputUnit() {
    // TensorFlow layout [k, k, in, out]: output units on the last axis
    long[] shape = {3, 3, 5, 8};
    float[] w = normal(8, 3 * 3 * 5 * 8);
    for (int i = 0; i < w.length; i++) {
      w[i] *= 3.7f;
    }
    w[7] = 0;   // a unit that is not all zeros, and below: one that is
    for (int i = 0; i < 45; i++) {
      w[i * 8 + 5] = 0;
    }
    float[] y = eval(List.of(w), new long[][] {shape}, (tf, in) -> Mp.normalizeWeight(tf, in.get(0)));
    for (int o = 0; o < 8; o++) {
      double sq = 0;
      for (int i = 0; i < 45; i++) {
        sq += y[i * 8 + o] * y[i * 8 + o];
      }
      // the eps 1e-4 keeps an all-zero unit at zero instead of dividing by zero
      assertEquals(o == 5 ? 0 : 45, sq, o == 5 ? 0 : 45e-5, "unit " + o);
    }
  }

  /** The forward weight normalize_weight(w) / sqrt(fan_in) has unit norm per output unit, seen through impulses. */
  @Test
  void forwardWeightsHaveUnitNormPerOutputUnit() {
    for (int rank = 1; rank <= 3; rank++) {
      int in = 3;
      int out = 5;
      int r = rank;
      // input: `in` impulses, each a one-hot channel at the centre of a 3^rank grid; the "same"
      // conv output then holds every tap of the kernel once
      long[] shape = new long[rank == 1 ? 4 : rank + 2];
      shape[0] = in;
      if (rank == 1) {
        shape[1] = 1;
        shape[2] = 3;
      } else {
        for (int i = 1; i <= rank; i++) {
          shape[i] = 3;
        }
      }
      shape[shape.length - 1] = in;
      int cells = (int) Math.pow(3, rank);
      float[] x = new float[in * cells * in];
      for (int c = 0; c < in; c++) {
        x[(c * cells + cells / 2) * in + c] = 1;
      }
      float[] y = evalLayer(List.of(x), new long[][] {shape}, (tf, xs) -> {
        Parameters p = new Parameters(tf);
        MpConv conv = MpConv.conv(p.scope(), r, in, out, 3, false);
        return new Built(p, conv.apply(tf, xs.get(0)));
      });
      double[] sq = new double[out];
      for (int i = 0; i < y.length; i++) {
        sq[i % out] += y[i] * y[i];
      }
      for (int o = 0; o < out; o++) {
        assertEquals(1, sq[o], 1e-5, "rank " + rank + " unit " + o);
      }
    }
  }

  @Test
  void mpLinearHasUnitMagnitude() {
    int rows = N / 32;
    float[] x = normal(9, rows * 32);
    float[] y = evalLayer(List.of(x), new long[][] {{rows, 32}}, (tf, in) -> {
      Parameters p = new Parameters(tf);
      return new Built(p, MpConv.linear(p.scope(), 32, 6).apply(tf, in.get(0)));
    });
    // each output unit is a unit-norm combination of independent unit inputs
    for (int o = 0; o < 6; o++) {
      float[] unit = new float[rows];
      for (int i = 0; i < rows; i++) {
        unit[i] = y[i * 6 + o];
      }
      assertMeanSquare(1, unit);
    }
  }

  @Test
  void mpConvHasUnitMagnitude() {
    // 2-D, 3x3, 16 -> 4 channels; positions 3 apart have disjoint receptive fields, so their
    // outputs are independent samples (borders, where the zero padding shrinks the magnitude, are left out)
    int b = 32;
    int s = 64;
    float[] x = normal(10, b * s * s * 16);
    float[] y = evalLayer(List.of(x), new long[][] {{b, s, s, 16}}, (tf, in) -> {
      Parameters p = new Parameters(tf);
      return new Built(p, MpConv.conv(p.scope(), 2, 16, 4, 3, false).apply(tf, in.get(0)));
    });
    for (int o = 0; o < 4; o++) {
      List<Float> samples = new ArrayList<>();
      for (int n = 0; n < b; n++) {
        for (int i = 1; i < s - 1; i += 3) {
          for (int j = 1; j < s - 1; j += 3) {
            samples.add(y[((n * s + i) * s + j) * 4 + o]);
          }
        }
      }
      float[] unit = new float[samples.size()];
      for (int i = 0; i < unit.length; i++) {
        unit[i] = samples.get(i);
      }
      assertMeanSquare(1, unit);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** H0: the squares of y have mean {@code expected} (a t bound; n is large enough for the central limit). */
  private static void assertMeanSquare(double expected, float[] y) {
    double[] squares = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      squares[i] = (double) y[i] * y[i];
    }
    Statistical.assertMeanWithin(squares, expected, 0, "mean square");
  }

  static float[] normal(long seed, int n) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }

  private record Built(Parameters params, Operand<TFloat32> out) {}

  private static float[] eval(List<float[]> inputs, long[][] shapes,
      BiFunction<Ops, List<Operand<TFloat32>>, Operand<TFloat32>> f) {
    return evalLayer(inputs, shapes, (tf, in) -> new Built(null, f.apply(tf, in)));
  }

  /** Builds f on constant inputs, initialises its parameters (if any) and evaluates it. */
  private static float[] evalLayer(List<float[]> inputs, long[][] shapes,
      BiFunction<Ops, List<Operand<TFloat32>>, Built> f) {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<TFloat32>> in = new ArrayList<>();
      for (int i = 0; i < inputs.size(); i++) {
        try (TFloat32 t = Tensors.of(shapes[i], inputs.get(i))) {
          in.add(tf.constantOf(t));
        }
      }
      Built built = f.apply(tf, in);
      if (built.params() != null) {
        built.params().initialize(session, 42);
      }
      try (Result r = session.runner().fetch(built.out()).run()) {
        FloatArray a = Tensors.toArray((TFloat32) r.get(0));
        return a.data();
      }
    }
  }
}
