package io.diffusion4j.nn;

import java.util.Arrays;

/**
 * How a parameter stored in TensorFlow's layout relates to PyTorch's layout of the same
 * parameter: view the PyTorch array as {@code viewShape}, permute its axes by {@code perm}, and
 * reshape to {@code tfShape}. Conversions happen in Java when weights are read or written, so
 * the graph itself never transposes a weight.
 */
public record ParamLayout(long[] torchShape, long[] viewShape, int[] perm, long[] tfShape) {

  /** Same array in both frameworks, possibly with singleton axes dropped or added. */
  public static ParamLayout reshape(long[] torchShape, long[] tfShape) {
    return new ParamLayout(torchShape, torchShape, identity(torchShape.length), tfShape);
  }

  public static ParamLayout same(long... shape) {
    return reshape(shape, shape);
  }

  /** nn.Linear: torch [out, in], TensorFlow [in, out] for {@code x @ w}. */
  public static ParamLayout linear(long in, long out) {
    return new ParamLayout(new long[] {out, in}, new long[] {out, in}, new int[] {1, 0},
        new long[] {in, out});
  }

  /**
   * nn.ConvNd: torch [out, in, k...], TensorFlow [k..., in, out]. One-dimensional convolutions
   * run as two-dimensional ones over a height of 1, so their TensorFlow kernel is [1, k, in, out].
   */
  public static ParamLayout conv(int spatialRank, long in, long out, long kernel) {
    long[] torch = new long[2 + spatialRank];
    torch[0] = out;
    torch[1] = in;
    Arrays.fill(torch, 2, torch.length, kernel);
    int[] perm = new int[2 + spatialRank];
    for (int i = 0; i < spatialRank; i++) {
      perm[i] = 2 + i;
    }
    perm[spatialRank] = 1;
    perm[spatialRank + 1] = 0;
    long[] tf = spatialRank == 1
        ? new long[] {1, kernel, in, out}
        : permuteShape(torch, perm);
    return new ParamLayout(torch, torch, perm, tf);
  }

  public long size() {
    long n = 1;
    for (long d : torchShape) {
      n *= d;
    }
    return n;
  }

  public float[] toTf(float[] torchData) {
    return permute(torchData, viewShape, perm);
  }

  public float[] toTorch(float[] tfData) {
    int[] inverse = new int[perm.length];
    for (int i = 0; i < perm.length; i++) {
      inverse[perm[i]] = i;
    }
    return permute(tfData, permuteShape(viewShape, perm), inverse);
  }

  private static int[] identity(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    return p;
  }

  static long[] permuteShape(long[] shape, int[] perm) {
    long[] out = new long[perm.length];
    for (int i = 0; i < perm.length; i++) {
      out[i] = shape[perm[i]];
    }
    return out;
  }

  /** Row-major transpose: out[i_perm[0], ..., i_perm[r-1]] = in[i_0, ..., i_{r-1}]. */
  static float[] permute(float[] data, long[] shape, int[] perm) {
    int rank = shape.length;
    boolean isIdentity = true;
    for (int i = 0; i < rank; i++) {
      isIdentity &= perm[i] == i;
    }
    if (isIdentity) {
      return data.clone();
    }
    long[] outShape = permuteShape(shape, perm);
    long[] inStrides = strides(shape);
    // stride in the input of each output axis
    long[] step = new long[rank];
    for (int i = 0; i < rank; i++) {
      step[i] = inStrides[perm[i]];
    }
    float[] out = new float[data.length];
    int[] index = new int[rank];
    long src = 0;
    for (int o = 0; o < out.length; o++) {
      out[o] = data[(int) src];
      for (int axis = rank - 1; axis >= 0; axis--) {
        index[axis]++;
        src += step[axis];
        if (index[axis] < outShape[axis]) {
          break;
        }
        src -= step[axis] * index[axis];
        index[axis] = 0;
      }
    }
    return out;
  }

  private static long[] strides(long[] shape) {
    long[] s = new long[shape.length];
    long acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= shape[i];
    }
    return s;
  }
}
