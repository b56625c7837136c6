package io.diffusion4j.distribute;

import java.nio.charset.StandardCharsets;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The chief's text on every worker, sent through the cluster's own collectives: how a worker
 * learns the run it joins (config, options, step) without reading the chief's files.
 */
public final class Handshake {
  private Handshake() {}

  /** On the chief, sends {@code text} and returns it; on the others, returns the chief's (give null). */
  public static String share(Cluster cluster, String text) {
    byte[] bytes = cluster.isChief() ? text.getBytes(StandardCharsets.UTF_8) : new byte[0];
    try (Graph g = new Graph(); Session s = cluster.session(g)) {
      Ops tf = Ops.create(g);
      Collectives c = new Collectives(tf, cluster.config());
      Placeholder<TInt64> length = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(1)));
      Operand<TInt64> sharedLength = c.fromChief(length);
      Placeholder<TInt32> body = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TInt32> sharedBody = c.fromChief(body);
      long n;
      try (TInt64 l = TInt64.vectorOf(bytes.length); Result r = s.runner().feed(length, l).fetch(sharedLength).run()) {
        n = ((TInt64) r.get(0)).getLong(0);
      }
      int[] chars = new int[Math.toIntExact(n)];
      for (int i = 0; i < bytes.length; i++) {
        chars[i] = bytes[i];
      }
      try (TInt32 b = TInt32.vectorOf(chars); Result r = s.runner().feed(body, b).fetch(sharedBody).run()) {
        TInt32 got = (TInt32) r.get(0);
        byte[] out = new byte[chars.length];
        for (int i = 0; i < out.length; i++) {
          out[i] = (byte) got.getInt(i);
        }
        return new String(out, StandardCharsets.UTF_8);
      }
    }
  }

  /** Waits until every worker gets here (an all-reduce of nothing); failures of its tail are harmless. */
  public static void barrier(Cluster cluster) {
    try {
      share(cluster, cluster.isChief() ? "done" : null);
    } catch (TensorFlowException e) {
      // a peer that got the result first may exit before the last transfer is acknowledged
    }
  }
}
