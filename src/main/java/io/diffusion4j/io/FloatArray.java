package io.diffusion4j.io;

import java.util.Arrays;

/**
 * A dense float32 array with its shape, row-major: the common currency between files (npy,
 * safetensors, images) and tensors. Kept deliberately plain so that file formats need no
 * TensorFlow.
 */
public record FloatArray(long[] shape, float[] data) {

  public FloatArray {
    checkShape(shape, data.length);
  }

  /** Fails unless {@code shape} has no negative dimension and holds {@code length} values. */
  static void checkShape(long[] shape, int length) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
      }
      n *= d;
    }
    if (n != length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " holds " + n + " values, data has " + length);
    }
  }

  public static FloatArray zeros(long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return new FloatArray(shape.clone(), new float[Math.toIntExact(n)]);
  }

  public int rank() {
    return shape.length;
  }

  public long size() {
    return data.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FloatArray other
        && Arrays.equals(shape, other.shape)
        && Arrays.equals(data, other.data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "FloatArray" + Arrays.toString(shape);
  }
}
