package io.diffusion4j.distribute;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Puts together an array that the workers of a cluster filled in parts: each gives the array
 * with its own rows filled and zeros elsewhere, and an all-reduce sum (exact, since every other
 * addend is zero) gives every worker the whole. How a sampling run shared by the workers meets.
 */
public final class Gather implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Session session;
  private final Ops tf = Ops.create(graph);
  private final Collectives collectives;
  /** One collective per batch shape: TensorFlow fixes an instance's shape at its first run. */
  private final Map<List<Long>, Op> ops = new HashMap<>();

  private record Op(Placeholder<TFloat32> in, Operand<TFloat32> out) {}

  public Gather(Cluster cluster) {
    this.session = cluster.session(graph);
    this.collectives = new Collectives(tf, cluster.config());
  }

  /** The sum over workers of {@code mine}; every worker must call it with arrays of one shape. */
  public FloatArray sum(FloatArray mine) {
    Op op = ops.computeIfAbsent(Arrays.stream(mine.shape()).boxed().toList(), shape -> {
      Placeholder<TFloat32> in = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(mine.shape())));
      return new Op(in, collectives.sum(in));
    });
    try (TFloat32 x = Tensors.of(mine); Result r = session.runner().feed(op.in(), x).fetch(op.out()).run()) {
      return Tensors.toArray((TFloat32) r.get(0));
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
