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
 * the SavedModel folder, an output prefix, and input shapes such as {@code 2x8x12x3}. The input is
 * x[i] = sin(i) and time = [3, 50, ...]; each output's floats are written big-endian to
 * {@link #output}(prefix, k).
 */
public final class PlainTensorFlowDenoise {
  public static void main(String[] args) throws Exception {
    try (SavedModelBundle bundle = SavedModelBundle.load(args[0], "serve")) {
      for (int k = 2; k < args.length; k++) {
        long[] shape = java.util.Arrays.stream(args[k].split("x")).mapToLong(Long::parseLong).toArray();
        try (TFloat32 tx = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(input(shape)));
            TFloat32 tt = TFloat32.vectorOf(times((int) shape[0]));
            Result r = bundle.function("denoise").call(Map.of("x", tx, "time", tt));
            DataOutputStream out = new DataOutputStream(new FileOutputStream(output(args[1], k - 2).toFile()))) {
          TFloat32 y = (TFloat32) r.get("out").orElseThrow();
          float[] values = new float[(int) y.size()];
          y.asRawTensor().data().asFloats().read(values);
          for (float v : values) {
            out.writeFloat(v);
          }
        }
      }
    }
  }

  static String format(long[] shape) {
    return java.util.Arrays.stream(shape).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining("x"));
  }

  static java.nio.file.Path output(String prefix, int k) {
    return java.nio.file.Path.of(prefix + "-" + k + ".bin");
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
