package io.diffusion4j.eval;

import io.diffusion4j.io.FloatArray;
import java.util.Arrays;

/** Feeds images to a network a batch at a time and gathers the features. */
final class Batches {
  private Batches() {}

  /** Computes the features of one batch [b, H, W, C] into {@code out} from {@code offset} on. */
  interface Run {
    void features(FloatArray batch, float[] out, int offset);
  }

  /** {@code net}'s features [N, d] of images [N, H, W, C], computed {@code size} images at a time by {@code run}. */
  static FloatArray features(FeatureNetwork net, FloatArray images, int size, Run run) {
    long[] shape = images.shape();
    if (shape.length != 4) {
      throw new IllegalArgumentException("images must be [N, H, W, C], got " + Arrays.toString(shape));
    }
    net.checkImages(Arrays.copyOfRange(shape, 1, 4));
    int n = (int) shape[0];
    int per = (int) (shape[1] * shape[2] * shape[3]);
    int d = net.dimension();
    float[] out = new float[n * d];
    for (int first = 0; first < n; first += size) {
      int b = Math.min(size, n - first);
      long[] batchShape = shape.clone();
      batchShape[0] = b;
      run.features(new FloatArray(batchShape, Arrays.copyOfRange(images.data(), first * per, (first + b) * per)),
          out, first * d);
    }
    return new FloatArray(new long[] {n, d}, out);
  }
}
