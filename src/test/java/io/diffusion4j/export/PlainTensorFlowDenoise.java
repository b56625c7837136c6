package io.diffusion4j.export;

import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * Runs a SavedModel's {@code denoise} with nothing but TensorFlow Java, in its own JVM: args are
 * the SavedModel folder, the output file, and the input shape. The input is x[i] = sin(i) and time
 * = [3, 50, ...]; the output's floats are written big-endian.
 */
public final class PlainTensorFlowDenoise {
  public static void main(String[] args) throws Exception {
    long[] shape = new long[args.length - 2];
    for (int i = 2; i < args.length; i++) {
      shape[i - 2] = Long.parseLong(args[i]);
    }
    float[] x = input(shape);
    float[] time = times((int) shape[0]);
    try (SavedModelBundle bundle = SavedModelBundle.load(args[0], "serve");
        TFloat32 tx = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(x));
        TFloat32 tt = TFloat32.vectorOf(time);
        Result r = bundle.function("denoise").call(Map.of("x", tx, "time", tt));
        DataOutputStream out = new DataOutputStream(new FileOutputStream(args[1]))) {
      TFloat32 y = (TFloat32) r.get("out").orElseThrow();
      float[] values = new float[(int) y.size()];
      y.asRawTensor().data().asFloats().read(values);
      for (float v : values) {
        out.writeFloat(v);
      }
    }
  }

  static float[] input(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] x = new float[(int) n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(i);
    }
    return x;
  }

  static float[] times(int n) {
    float[] t = new float[n];
    for (int i = 0; i < n; i++) {
      t[i] = i == 0 ? 3 : 50 * i;
    }
    return t;
  }
}
