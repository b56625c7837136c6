package io.diffusion4j.diffusion;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.nn.Tensors;
import java.util.List;
import java.util.Random;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Small networks and helpers shared by the diffusion, sampling and nn tests. */
public final class TinyModels {
  private TinyModels() {}

  /** The smallest 2-D Unet the sinusoidal embedding allows: 2 stages, 1 head of 4; inputs 4x4 (or any even size). */
  public static UnetConfig unet2d(int channels, boolean selfCondition) {
    return UnetConfig.builder(4).dimMults(List.of(1, 2)).channels(channels).selfCondition(selfCondition)
        .attnHeads(List.of(1)).attnDimHead(List.of(4)).build();
  }

  /** A small Unet1D: 2 stages (its stage attention is fixed at 4 heads of 32); sequences of even length. */
  public static UnetConfig unet1d(int channels, boolean selfCondition) {
    return UnetConfig.builder1d(4).dimMults(List.of(1, 2)).channels(channels).selfCondition(selfCondition)
        .attnHeads(List.of(1)).attnDimHead(List.of(4)).build();
  }

  /** Standard-normal values (times scale), reproducible from seed. */
  public static FloatArray normal(long seed, double scale, long... shape) {
    Random r = new Random(seed);
    FloatArray a = FloatArray.zeros(shape);
    float[] d = a.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) (r.nextGaussian() * scale);
    }
    return a;
  }

  /** Uniform values in [lo, hi), reproducible from seed. */
  public static FloatArray uniform(long seed, double lo, double hi, long... shape) {
    Random r = new Random(seed);
    FloatArray a = FloatArray.zeros(shape);
    float[] d = a.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) (lo + (hi - lo) * r.nextDouble());
    }
    return a;
  }

  public static Operand<TFloat32> constant(Ops tf, FloatArray a) {
    try (TFloat32 t = Tensors.of(a)) {
      return tf.constantOf(t);
    }
  }

  /** Evaluates operands (which must not need feeds) and copies them to Java. */
  @SafeVarargs
  public static FloatArray[] run(Session session, Operand<TFloat32>... ops) {
    Session.Runner r = session.runner();
    for (Operand<TFloat32> op : ops) {
      r.fetch(op);
    }
    try (Result res = r.run()) {
      FloatArray[] out = new FloatArray[ops.length];
      for (int i = 0; i < ops.length; i++) {
        out[i] = Tensors.toArray((TFloat32) res.get(i));
      }
      return out;
    }
  }

  /** Values a 2-D [N, ...] array holds for batch element n, flattened. */
  public static int perExample(FloatArray a) {
    return Math.toIntExact(a.size() / a.shape()[0]);
  }

  public static void assertAllClose(float[] expected, float[] actual, double tol, String what) {
    if (expected.length != actual.length) {
      throw new AssertionError(what + ": length " + actual.length + ", expected " + expected.length);
    }
    double worst = -1;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double d = Math.abs((double) expected[i] - actual[i]);
      if (!(d <= tol) && !(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    if (at >= 0) {
      throw new AssertionError(what + ": largest difference " + worst + " > " + tol + " at " + at + " (expected "
          + expected[at] + ", got " + actual[at] + ")");
    }
  }
}
