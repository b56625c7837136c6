package io.diffusion4j.io;

import java.util.Arrays;

/**
 * A dense float64 array with its shape, row-major: for the few values float32 would round, such
 * as the feature statistics behind the Fréchet distance.
 */
public record DoubleArray(long[] shape, double[] data) {

  public DoubleArray {
    FloatArray.checkShape(shape, data.length);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DoubleArray other && Arrays.equals(shape, other.shape) && Arrays.equals(data, other.data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "DoubleArray" + Arrays.toString(shape);
  }
}
