package io.diffusion4j.bench;

import com.google.gson.JsonObject;
import io.diffusion4j.runtime.Execution;
import java.util.Arrays;
import java.util.Locale;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TFloating;

/**
 * The machine's attainable matrix-product speed through TensorFlow: MatMul of two N x N
 * matrices (N = 4096) in float32 or bfloat16, 2 N^3 FLOPs a run, the median of a few runs after a
 * warm-up. It is what the cases' {@code of_peak} is measured against, on the machine at hand.
 */
public final class Peak {
  public static final int N = 4096;
  private static final int REPEATS = 3;

  /** One dtype's measured speed. */
  public record Measurement(String dtype, int n, double medianMs, double gflops) {
    public JsonObject toJson() {
      JsonObject j = new JsonObject();
      j.addProperty("case", "peak_matmul_" + dtype);
      j.addProperty("kind", "peak");
      j.addProperty("n", n);
      j.addProperty("threads", Bench.threads());
      j.addProperty("median_ms", Math.round(medianMs * 100) / 100.0);
      j.addProperty("gflops", Math.round(gflops * 10) / 10.0);
      return j;
    }
  }

  private Peak() {}

  public static Measurement float32(int n) {
    return measure(n, TFloat32.class);
  }

  public static Measurement bfloat16(int n) {
    return measure(n, TBfloat16.class);
  }

  private static <T extends TFloating> Measurement measure(int n, Class<T> type) {
    try (Graph g = new Graph(); Session s = Execution.CPU.session(g)) {
      Ops tf = Ops.create(g);
      // the operands live in variables, filled once, so that each timed run is the product alone
      Variable<T> a = tf.variable(tf.dtypes.cast(random(tf, n, 1), type));
      Variable<T> b = tf.variable(tf.dtypes.cast(random(tf, n, 2), type));
      Operand<T> product = tf.linalg.matMul(a, b);
      s.initialize();
      s.runner().addTarget(product).run();
      double[] ms = new double[REPEATS];
      for (int i = 0; i < REPEATS; i++) {
        long start = System.nanoTime();
        s.runner().addTarget(product).run();
        ms[i] = (System.nanoTime() - start) / 1e6;
      }
      Arrays.sort(ms);
      double median = ms[REPEATS / 2];
      String name = type == TFloat32.class ? "float32" : "bfloat16";
      return new Measurement(name.toLowerCase(Locale.ROOT), n, median, 2.0 * n * n * n / median / 1e6);
    }
  }

  private static Operand<TFloat32> random(Ops tf, int n, long seed) {
    return tf.random.statelessRandomNormal(tf.constant(new int[] {n, n}), tf.constant(new long[] {seed, 0}));
  }
}
