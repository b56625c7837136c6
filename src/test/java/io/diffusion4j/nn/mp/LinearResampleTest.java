package io.diffusion4j.nn.mp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * LinearResample equals PyTorch's F.interpolate(mode='bilinear'/'trilinear', align_corners=False)
 * as written out below, corner by corner (not separably), for halving and doubling every axis or
 * only some. PyTorch: source coordinate (i + 0.5) * in / out - 0.5, clamped below at 0; neighbours
 * floor(src) and min(floor(src) + 1, in - 1); no antialiasing when downsampling.
 */
class LinearResampleTest {

  @Test
  void sequencesAsImagesOfHeightOne() {
    check(new long[] {2, 1, 8, 3}, new long[] {1, 4});
    check(new long[] {2, 1, 8, 3}, new long[] {1, 16});
  }

  @Test
  void images() {
    check(new long[] {2, 6, 8, 3}, new long[] {3, 4});
    check(new long[] {2, 6, 8, 3}, new long[] {12, 16});
    check(new long[] {1, 5, 7, 2}, new long[] {10, 14});
  }

  @Test
  void volumesEveryAxisOrSome() {
    long[] shape = {2, 4, 6, 8, 3};
    check(shape, new long[] {2, 3, 4});    // 'all'
    check(shape, new long[] {4, 3, 4});    // 'image'
    check(shape, new long[] {2, 6, 8});    // 'frame'
    check(shape, new long[] {8, 12, 16});
    check(shape, new long[] {4, 12, 16});
    check(shape, new long[] {8, 6, 8});
  }

  private static void check(long[] shape, long[] size) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    FloatArray x = new FloatArray(shape, MpPrimitivesTest.normal(shape.length * 100 + size[0], n));
    FloatArray expected = naive(x, size);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> y;
      try (TFloat32 t = Tensors.of(x)) {
        y = LinearResample.resize(tf, tf.constantOf(t), size);
      }
      try (Result r = s.runner().fetch(y).run()) {
        FloatArray actual = Tensors.toArray((TFloat32) r.get(0));
        assertArrayEquals(expected.shape(), actual.shape());
        for (int i = 0; i < expected.data().length; i++) {
          assertEquals(expected.data()[i], actual.data()[i], 1e-5, "element " + i);
        }
      }
    }
  }

  /** Multilinear interpolation of a channels-last [N, spatial..., C] array, PyTorch's way. */
  static FloatArray naive(FloatArray x, long[] size) {
    long[] in = x.shape();
    int rank = size.length;
    int c = (int) in[in.length - 1];
    long[] outShape = in.clone();
    for (int a = 0; a < rank; a++) {
      outShape[a + 1] = size[a];
    }
    int outPositions = 1;
    int inPositions = 1;
    for (int a = 0; a < rank; a++) {
      outPositions *= (int) size[a];
      inPositions *= (int) in[a + 1];
    }
    int batch = (int) in[0];
    float[] out = new float[batch * outPositions * c];
    int[] idx = new int[rank];
    for (int b = 0; b < batch; b++) {
      for (int p = 0; p < outPositions; p++) {
        // output coordinates
        int rest = p;
        for (int a = rank - 1; a >= 0; a--) {
          idx[a] = rest % (int) size[a];
          rest /= (int) size[a];
        }
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        double[] lambda = new double[rank];
        for (int a = 0; a < rank; a++) {
          long len = in[a + 1];
          double src = Math.max((idx[a] + 0.5) * len / size[a] - 0.5, 0);
          lo[a] = (int) Math.floor(src);
          hi[a] = Math.min(lo[a] + 1, (int) len - 1);
          lambda[a] = src - lo[a];
        }
        for (int corner = 0; corner < (1 << rank); corner++) {
          double weight = 1;
          int offset = 0;
          for (int a = 0; a < rank; a++) {
            boolean high = (corner >> a & 1) == 1;
            weight *= high ? lambda[a] : 1 - lambda[a];
            offset = offset * (int) in[a + 1] + (high ? hi[a] : lo[a]);
          }
          for (int k = 0; k < c; k++) {
            out[(b * outPositions + p) * c + k] += (float) (weight * x.data()[(b * inPositions + offset) * c + k]);
          }
        }
      }
    }
    return new FloatArray(outShape, out);
  }
}
