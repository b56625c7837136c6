package io.diffusion4j.sampling;

import java.util.Arrays;

/**
 * The checks of what a sampling run is given, for the Java API and the command line alike: each
 * error names the input as its caller does ("noise" in Java, "--noise" on the command line).
 */
public final class SampleInputs {

  private SampleInputs() {}

  /** Fails unless {@code shape} is a batch of examples of shape {@code perExample}: [N, ...], N at least 1. */
  public static void checkBatch(String name, long[] shape, long[] perExample) {
    if (shape.length != perExample.length + 1 || shape[0] < 1
        || !Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), perExample)) {
      throw new IllegalArgumentException(name + " has shape " + Arrays.toString(shape) + ", expected [N, "
          + Arrays.toString(perExample).replaceAll("[\\[\\]]", "") + "] (channels-last)");
    }
  }

  /**
   * Fails unless {@code labels} suit {@code count} samples of a model of {@code classes} classes
   * (0: not class-conditional): none without classes, else one per sample (or, with
   * {@code oneForAll}, a single one for every sample), each in 0 .. classes - 1.
   */
  public static void checkLabels(String name, long[] labels, int classes, long count, boolean oneForAll) {
    if (classes == 0) {
      if (labels != null) {
        throw new IllegalArgumentException(name + " given, but the model is not class-conditional");
      }
      return;
    }
    String each = oneForAll ? "one for every sample or one per sample" : "one per sample";
    if (labels == null) {
      throw new IllegalArgumentException("the model is class-conditional (num_classes = " + classes + "): give "
          + name + " (0.." + (classes - 1) + "), " + each);
    }
    if (labels.length != count && !(oneForAll && labels.length == 1)) {
      throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + count + " samples; give "
          + each);
    }
    for (long l : labels) {
      if (l < 0 || l >= classes) {
        throw new IllegalArgumentException(name + ": " + l + " is outside 0.." + (classes - 1));
      }
    }
  }
}
