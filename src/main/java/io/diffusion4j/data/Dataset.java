package io.diffusion4j.data;

import io.diffusion4j.io.FloatArray;
import java.io.IOException;

/**
 * A finite, indexed collection of training examples of one shape, the interface between file
 * formats and {@link BatchLoader}. Examples are channels-last ([H, W, C] images, [L, C]
 * sequences) with values in [0, 1], which is what the diffusion model's auto-normalisation
 * expects.
 *
 * <p>Implementations must allow {@link #read} from several threads at once: the loader decodes
 * a batch's examples in parallel.
 */
public interface Dataset {
  /** The number of examples. */
  int size();

  /** The shape of one example, e.g. [28, 28, 1] or [L, C]. */
  long[] exampleShape();

  /** The number of floats in one example (the product of {@link #exampleShape()}). */
  default int exampleLength() {
    long n = 1;
    for (long d : exampleShape()) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  /**
   * Writes example {@code index} into {@code dst} from {@code offset} on, channels-last, values in
   * [0, 1]. Errors name the file at fault.
   */
  void read(int index, float[] dst, int offset) throws IOException;

  /** The examples at {@code indices}, stacked: [indices.length, ...exampleShape]. */
  default FloatArray examples(int[] indices) throws IOException {
    long[] example = exampleShape();
    long[] shape = new long[example.length + 1];
    shape[0] = indices.length;
    System.arraycopy(example, 0, shape, 1, example.length);
    int length = exampleLength();
    float[] out = new float[indices.length * length];
    for (int i = 0; i < indices.length; i++) {
      read(indices[i], out, i * length);
    }
    return new FloatArray(shape, out);
  }

  /** The class label of each example (a copy), or null when the source has none. */
  int[] labels();

  /** One line for logs: the source and the counts. */
  String describe();
}
