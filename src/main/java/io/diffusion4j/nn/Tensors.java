package io.diffusion4j.nn;

import io.diffusion4j.io.FloatArray;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/** Copies between native float tensors and {@link FloatArray}s (the caller closes the tensor), and batch shapes. */
public final class Tensors {
  private Tensors() {}

  public static TFloat32 of(FloatArray a) {
    return TFloat32.tensorOf(Shape.of(a.shape()), DataBuffers.of(a.data(), true, false));
  }

  public static TFloat32 of(long[] shape, float[] data) {
    return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
  }

  /** [batch, example...]: the shape of a batch of examples of shape {@code example} (-1: any size). */
  public static long[] batchShape(long batch, long[] example) {
    long[] s = new long[example.length + 1];
    s[0] = batch;
    System.arraycopy(example, 0, s, 1, example.length);
    return s;
  }

  public static FloatArray toArray(TFloat32 t) {
    float[] data = new float[Math.toIntExact(t.size())];
    t.asRawTensor().data().asFloats().read(data);
    return new FloatArray(t.shape().asArray(), data);
  }
}
