package io.diffusion4j.distribute;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TNumber;

/**
 * TensorFlow's collective all-reduce (CollectiveReduceV2, ring or whatever the runtime picks)
 * across the workers of a cluster, built into one worker's graph.
 *
 * <p>Every worker must build the same collectives in the same order: an op's instance key is its
 * position in that order over the whole process (TensorFlow caches an instance's shape by its key,
 * so a key is never used twice), and the ops of one key meet across workers. Tensors are packed
 * into one flat vector per call, so a step costs one collective, not one per parameter.
 */
public final class Collectives {
  private static final int GROUP_KEY = 1;

  private static final AtomicInteger NEXT_INSTANCE =
      new AtomicInteger(1);

  private final Ops tf;
  private final int workers;
  private final int index;

  public Collectives(Ops tf, TfConfig config) {
    this.tf = tf;
    this.workers = config.numWorkers();
    this.index = config.index();
  }

  public int workers() {
    return workers;
  }

  /** This worker's index. */
  public int index() {
    return index;
  }

  /** The mean over workers of each tensor. */
  public List<Operand<TFloat32>> mean(List<Operand<TFloat32>> values) {
    return unpack(values, reduce(pack(values), "Div"));
  }

  public <T extends TNumber> Operand<T> mean(Operand<T> value) {
    return reduce(value, "Div");
  }

  /** The sum over workers. */
  public <T extends TNumber> Operand<T> sum(Operand<T> value) {
    return reduce(value, "Id");
  }

  /** The chief's value of each tensor on every worker: the others add zeros, so it is exact. */
  public List<Operand<TFloat32>> fromChief(List<Operand<TFloat32>> values) {
    Operand<TFloat32> packed = pack(values);
    return unpack(values, reduce(index == 0 ? packed : tf.zerosLike(packed), "Id"));
  }

  public <T extends TNumber> Operand<T> fromChief(Operand<T> value) {
    return reduce(index == 0 ? value : tf.zerosLike(value), "Id");
  }

  private Operand<TFloat32> pack(List<Operand<TFloat32>> values) {
    List<Operand<TFloat32>> flat = new ArrayList<>();
    for (Operand<TFloat32> v : values) {
      flat.add(tf.reshape(v, tf.constant(new int[] {-1})));
    }
    return flat.size() == 1 ? flat.get(0) : tf.concat(flat, tf.constant(0));
  }

  private List<Operand<TFloat32>> unpack(List<Operand<TFloat32>> like, Operand<TFloat32> packed) {
    List<Operand<TFloat32>> out = new ArrayList<>();
    Operand<TInt32> offset = tf.constant(0);
    for (Operand<TFloat32> v : like) {
      Operand<TInt32> size = tf.size(v);
      Operand<TFloat32> part = tf.slice(packed, tf.reshape(offset, tf.constant(new int[] {1})),
          tf.reshape(size, tf.constant(new int[] {1})));
      out.add(tf.reshape(part, tf.shape(v)));
      offset = tf.math.add(offset, size);
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private <T extends TNumber> Operand<T> reduce(Operand<T> value, String finalOp) {
    int instance = NEXT_INSTANCE.getAndIncrement();
    Output<?> out = tf.scope().env().opBuilder("CollectiveReduceV2", "collective_" + instance, tf.scope())
        .addInput(value.asOutput())
        .addInput(tf.constant(workers).asOutput())
        .addInput(tf.constant(GROUP_KEY).asOutput())
        .addInput(tf.constant(instance).asOutput())
        .addInputList(new Output<?>[0])
        .setAttr("T", value.asOutput().dataType())
        .setAttr("merge_op", "Add")
        .setAttr("final_op", finalOp)
        .setAttr("communication_hint", "auto")
        // no timeout: a worker may wait for the chief's save; the cluster's watchdog ends a dead run
        .setAttr("timeout_seconds", 0f)
        .build()
        .output(0);
    return (Operand<T>) out;
  }
}
