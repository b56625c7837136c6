package io.diffusion4j.nn;

import io.diffusion4j.io.FloatArray;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/** Copies between native float tensors and {@link FloatArray}s; the caller closes the tensor. */
public final class Tensors {
  private Tensors() {}

  public static TFloat32 of(FloatArray a) {
    return TFloat32.tensorOf(Shape.of(a.shape()), DataBuffers.of(a.data(), true, false));
  }

  public static TFloat32 of(long[] shape, float[] data) {
    return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
  }

  public static FloatArray toArray(TFloat32 t) {
    float[] data = new float[Math.toIntExact(t.size())];
    t.asRawTensor().data().asFloats().read(data);
    return new FloatArray(t.shape().asArray(), data);
  }
}
