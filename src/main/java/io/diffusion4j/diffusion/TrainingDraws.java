package io.diffusion4j.diffusion;

import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The random draws of one training (micro-)batch. Each quantity has its own stateless stream
 * derived from the step seed, and is drawn for the step's whole effective batch then sliced to the
 * micro-batch (see {@link Diffusion.MicroBatch}).
 */
final class TrainingDraws {
  private final Ops tf;
  private final Operand<TInt64> seed;
  private final long[] perExample;
  private final Operand<TInt32> batch;
  private final Operand<TInt32> full;
  private final Operand<TInt32> start;

  TrainingDraws(Ops tf, Operand<TFloat32> images, Operand<TInt64> seed, Diffusion.MicroBatch micro, long[] perExample) {
    this.tf = tf;
    this.seed = seed;
    this.perExample = perExample;
    batch = tf.slice(tf.shape(images), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    full = tf.math.mul(batch, tf.constant(new int[] {micro.count()}));
    start = tf.math.mul(micro.index(), tf.reshape(batch, tf.constant(new int[0])));
  }

  /** Uniform integers in [0, max), one per example. */
  Operand<TInt32> uniformInt(long stream, int max) {
    Operand<TInt32> all = tf.random.statelessRandomUniformInt(full, stream(stream), tf.constant(0), tf.constant(max));
    return tf.slice(all, tf.reshape(start, tf.constant(new int[] {1})), batch);
  }

  /** Standard normal values shaped [N, trailing...]: [] for one per example. */
  Operand<TFloat32> normal(long stream, long... trailing) {
    int[] dims = Arrays.stream(trailing).mapToInt(Math::toIntExact).toArray();
    Operand<TFloat32> all = tf.random.statelessRandomNormal(tf.concat(List.of(full, tf.constant(dims)), tf.constant(0)),
        stream(stream));
    Operand<TInt32> begin = tf.concat(List.of(tf.reshape(start, tf.constant(new int[] {1})),
        tf.constant(new int[dims.length])), tf.constant(0));
    // static sizes for the trailing axes keep the shape known to the graph
    return tf.slice(all, begin, tf.concat(List.of(batch, tf.constant(dims)), tf.constant(0)));
  }

  /** Standard normal noise shaped like one batch of examples. */
  Operand<TFloat32> noiseLikeExamples(long stream) {
    return normal(stream, perExample);
  }

  private Operand<TInt64> stream(long stream) {
    return tf.math.add(seed, tf.constant(new long[] {0, stream << 40}));
  }
}
