package io.diffusion4j.nn;

import static io.diffusion4j.diffusion.TinyModels.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.diffusion4j.diffusion.TinyModels;
import io.diffusion4j.io.FloatArray;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * PyTorch <-> TensorFlow weight layouts: conversions are exact inverses and put every element
 * where the TensorFlow op expects it, checked by running the layers on weights written in
 * PyTorch's layout against naive PyTorch-semantics convolutions computed here.
 */
class ParamLayoutTest {

  private static float[] iota(long n) {
    float[] a = new float[Math.toIntExact(n)];
    for (int i = 0; i < a.length; i++) {
      a[i] = i;
    }
    return a;
  }

  private static void assertRoundTrip(ParamLayout layout) {
    float[] torch = iota(layout.size());
    float[] tf = layout.toTf(torch);
    assertEquals(torch.length, tf.length);
    assertArrayEquals(torch, layout.toTorch(tf), "toTorch(toTf(a)) == a for " + java.util.Arrays.toString(layout.torchShape()));
    assertArrayEquals(tf, layout.toTf(layout.toTorch(tf)), "toTf(toTorch(b)) == b");
    // a permutation: every element once
    float[] sorted = tf.clone();
    java.util.Arrays.sort(sorted);
    assertArrayEquals(torch, sorted);
  }

  @Test
  void roundTrips() {
    assertRoundTrip(ParamLayout.linear(3, 5));
    assertRoundTrip(ParamLayout.linear(1, 7));
    assertRoundTrip(ParamLayout.conv(1, 2, 3, 4));
    assertRoundTrip(ParamLayout.conv(1, 5, 2, 1));
    assertRoundTrip(ParamLayout.conv(2, 2, 3, 3));
    assertRoundTrip(ParamLayout.conv(2, 4, 6, 7));
    assertRoundTrip(ParamLayout.conv(3, 2, 3, 3));
    assertRoundTrip(ParamLayout.same(2, 1, 4, 3));
    assertRoundTrip(ParamLayout.reshape(new long[] {1, 5, 1, 1}, new long[] {5}));
    // the pixel-unshuffle 1x1 conv of the 2-D downsample
    assertRoundTrip(new ParamLayout(new long[] {3, 8, 1, 1}, new long[] {3, 2, 4}, new int[] {2, 1, 0},
        new long[] {1, 1, 8, 3}));
  }

  @Test
  void linearIsATranspose() {
    ParamLayout l = ParamLayout.linear(3, 2);
    assertArrayEquals(new long[] {2, 3}, l.torchShape());
    assertArrayEquals(new long[] {3, 2}, l.tfShape());
    // torch [[0,1,2],[3,4,5]] (out x in) -> tf [[0,3],[1,4],[2,5]] (in x out)
    assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, l.toTf(iota(6)));
  }

  @Test
  void convLayoutsPutEachElementInPlace() {
    int out = 3;
    int in = 2;
    int k = 3;
    ParamLayout c2 = ParamLayout.conv(2, in, out, k);
    assertArrayEquals(new long[] {out, in, k, k}, c2.torchShape());
    assertArrayEquals(new long[] {k, k, in, out}, c2.tfShape());
    float[] tf2 = c2.toTf(iota(c2.size()));
    ParamLayout c1 = ParamLayout.conv(1, in, out, 4);
    assertArrayEquals(new long[] {out, in, 4}, c1.torchShape());
    assertArrayEquals(new long[] {1, 4, in, out}, c1.tfShape());
    float[] tf1 = c1.toTf(iota(c1.size()));
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        for (int a = 0; a < k; a++) {
          for (int b = 0; b < k; b++) {
            // tf[a][b][i][o] = torch[o][i][a][b]
            assertEquals(((o * in + i) * k + a) * k + b, tf2[((a * k + b) * in + i) * out + o], 0f);
          }
        }
        for (int a = 0; a < 4; a++) {
          // tf[0][a][i][o] = torch[o][i][a]
          assertEquals((o * in + i) * 4 + a, tf1[(a * in + i) * out + o], 0f);
        }
      }
    }
  }

  // ---- layers run on PyTorch-layout weights vs naive convolutions ------------------------------

  /** torch.nn.functional.conv1d on [N, C, L] data, here given channels-last [N, L, C]; returns [N, Lout, O]. */
  static float[] naiveConv1d(float[] x, int n, int len, int in, float[] w, float[] b, int out, int k, int stride, int pad) {
    int lout = (len + 2 * pad - k) / stride + 1;
    float[] y = new float[n * lout * out];
    for (int s = 0; s < n; s++) {
      for (int l = 0; l < lout; l++) {
        for (int o = 0; o < out; o++) {
          double acc = b == null ? 0 : b[o];
          for (int i = 0; i < in; i++) {
            for (int q = 0; q < k; q++) {
              int pos = l * stride + q - pad;
              if (pos >= 0 && pos < len) {
                acc += (double) w[(o * in + i) * k + q] * x[(s * len + pos) * in + i];
              }
            }
          }
          y[(s * lout + l) * out + o] = (float) acc;
        }
      }
    }
    return y;
  }

  /** conv2d on channels-last [N, H, W, C] with torch weights [O, I, k, k]; returns [N, Ho, Wo, O]. */
  static float[] naiveConv2d(float[] x, int n, int h, int wd, int in, float[] w, float[] b, int out, int k, int pad) {
    int ho = h + 2 * pad - k + 1;
    int wo = wd + 2 * pad - k + 1;
    float[] y = new float[n * ho * wo * out];
    for (int s = 0; s < n; s++) {
      for (int r = 0; r < ho; r++) {
        for (int c = 0; c < wo; c++) {
          for (int o = 0; o < out; o++) {
            double acc = b == null ? 0 : b[o];
            for (int i = 0; i < in; i++) {
              for (int p = 0; p < k; p++) {
                for (int q = 0; q < k; q++) {
                  int rr = r + p - pad;
                  int cc = c + q - pad;
                  if (rr >= 0 && rr < h && cc >= 0 && cc < wd) {
                    acc += (double) w[((o * in + i) * k + p) * k + q] * x[((s * h + rr) * wd + cc) * in + i];
                  }
                }
              }
            }
            y[((s * ho + r) * wo + c) * out + o] = (float) acc;
          }
        }
      }
    }
    return y;
  }

  @Test
  void conv1dThroughTheLayoutIsTorchConv1d() {
    int n = 2;
    int len = 8;
    int in = 3;
    int out = 2;
    // {kernel, stride, padding}: SAME path, explicit padding + stride (the 1-D downsample), VALID, init conv
    int[][] cases = {{3, 1, 1}, {4, 2, 1}, {1, 1, 0}, {3, 1, 0}, {7, 1, 3}};
    for (int[] c : cases) {
      int k = c[0];
      int stride = c[1];
      int pad = c[2];
      try (Graph g = new Graph(); Session session = new Session(g)) {
        Ops tf = Ops.create(g);
        Parameters p = new Parameters(tf);
        Conv conv = new Conv(p.scope().child("conv"), 1, in, out, k, stride, pad, true);
        FloatArray w = TinyModels.normal(1, 1, out, in, k);
        FloatArray b = TinyModels.normal(2, 1, out);
        Map<String, FloatArray> weights = new LinkedHashMap<>();
        weights.put("conv.weight", w);
        weights.put("conv.bias", b);
        p.write(session, weights);
        FloatArray x = TinyModels.normal(3, 1, n, len, in);
        // sequences run as images of height 1
        Operand<TFloat32> xs = TinyModels.constant(tf, new FloatArray(new long[] {n, 1, len, in}, x.data()));
        FloatArray y = TinyModels.run(session, conv.apply(tf, xs))[0];
        int lout = (len + 2 * pad - k) / stride + 1;
        assertArrayEquals(new long[] {n, 1, lout, out}, y.shape(), "k=" + k + " s=" + stride + " p=" + pad);
        float[] expected = naiveConv1d(x.data(), n, len, in, w.data(), b.data(), out, k, stride, pad);
        assertAllClose(expected, y.data(), 1e-5, "conv1d k=" + k + " s=" + stride + " p=" + pad);
        // and the weights read back in PyTorch layout unchanged
        assertEquals(w, p.read(session).get("conv.weight"));
      }
    }
  }

  @Test
  void conv2dThroughTheLayoutIsTorchConv2d() {
    int n = 2;
    int h = 4;
    int wd = 6;
    int in = 2;
    int out = 3;
    for (int[] c : new int[][] {{3, 1}, {1, 0}, {7, 3}}) {
      int k = c[0];
      int pad = c[1];
      try (Graph g = new Graph(); Session session = new Session(g)) {
        Ops tf = Ops.create(g);
        Parameters p = new Parameters(tf);
        Conv conv = new Conv(p.scope().child("conv"), 2, in, out, k, 1, pad, true);
        FloatArray w = TinyModels.normal(4, 1, out, in, k, k);
        FloatArray b = TinyModels.normal(5, 1, out);
        p.write(session, Map.of("conv.weight", w, "conv.bias", b));
        FloatArray x = TinyModels.normal(6, 1, n, h, wd, in);
        FloatArray y = TinyModels.run(session, conv.apply(tf, TinyModels.constant(tf, x)))[0];
        assertAllClose(naiveConv2d(x.data(), n, h, wd, in, w.data(), b.data(), out, k, pad), y.data(), 1e-5,
            "conv2d k=" + k);
      }
    }
  }

  /**
   * The 2-D downsample: rearrange 'b c (h p1) (w p2) -> b (c p1 p2) h w' then a 1x1 conv with
   * torch weight [out, 4*in, 1, 1], as the reference builds it.
   */
  @Test
  void downsample2dIsPixelUnshuffleThenConv() {
    int n = 2;
    int h = 4;
    int wd = 6;
    int in = 3;
    int out = 5;
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      Parameters p = new Parameters(tf);
      Resample.Layer down = Resample.downsample(p.scope().child("down"), 2, in, out);
      FloatArray w = TinyModels.normal(7, 1, out, 4 * in, 1, 1);
      FloatArray b = TinyModels.normal(8, 1, out);
      p.write(session, Map.of("down.1.weight", w, "down.1.bias", b));
      FloatArray x = TinyModels.normal(9, 1, n, h, wd, in);
      FloatArray y = TinyModels.run(session, down.apply(tf, TinyModels.constant(tf, x)))[0];
      int ho = h / 2;
      int wo = wd / 2;
      assertArrayEquals(new long[] {n, ho, wo, out}, y.shape());
      float[] expected = new float[n * ho * wo * out];
      for (int s = 0; s < n; s++) {
        for (int r = 0; r < ho; r++) {
          for (int c = 0; c < wo; c++) {
            for (int o = 0; o < out; o++) {
              double acc = b.data()[o];
              for (int ch = 0; ch < in; ch++) {
                for (int p1 = 0; p1 < 2; p1++) {
                  for (int p2 = 0; p2 < 2; p2++) {
                    int unshuffled = ch * 4 + p1 * 2 + p2; // (c p1 p2)
                    acc += (double) w.data()[o * 4 * in + unshuffled]
                        * x.data()[((s * h + 2 * r + p1) * wd + 2 * c + p2) * in + ch];
                  }
                }
              }
              expected[((s * ho + r) * wo + c) * out + o] = (float) acc;
            }
          }
        }
      }
      assertAllClose(expected, y.data(), 1e-5, "pixel-unshuffle downsample");
    }
  }

  @Test
  void linearThroughTheLayoutIsTorchLinear() {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      Parameters p = new Parameters(tf);
      Linear lin = new Linear(p.scope().child("lin"), 3, 4);
      FloatArray w = TinyModels.normal(10, 1, 4, 3);
      FloatArray b = TinyModels.normal(11, 1, 4);
      p.write(session, Map.of("lin.weight", w, "lin.bias", b));
      FloatArray x = TinyModels.normal(12, 1, 2, 3);
      FloatArray y = TinyModels.run(session, lin.apply(tf, TinyModels.constant(tf, x)))[0];
      float[] expected = new float[8];
      for (int s = 0; s < 2; s++) {
        for (int o = 0; o < 4; o++) {
          double acc = b.data()[o];
          for (int i = 0; i < 3; i++) {
            acc += (double) w.data()[o * 3 + i] * x.data()[s * 3 + i];
          }
          expected[s * 4 + o] = (float) acc;
        }
      }
      assertAllClose(expected, y.data(), 1e-5, "x @ W^T + b");
    }
  }
}
