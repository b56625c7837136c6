package io.diffusion4j.diffusion;

import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Random;
import io.diffusion4j.nn.Tensors;
import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The random draws of one training batch. Each quantity has its own stateless stream derived
 * from the step seed, and is drawn for the step's whole batch then cut to this batch's window
 * (micro-batches, workers: see {@link BatchWindow}).
 */
final class TrainingDraws {
  private final Ops tf;
  private final Operand<TInt64> seed;
  private final long[] perExample;
  private final BatchWindow window;

  TrainingDraws(Ops tf, Operand<TInt64> seed, BatchWindow window, long[] perExample) {
    this.tf = tf;
    this.seed = seed;
    this.perExample = perExample;
    this.window = window;
  }

  /** Uniform integers in [0, max), one per example (which copies of the batch share). */
  Operand<TInt32> uniformInt(long stream, int max) {
    Operand<TInt32> all = Random.uniformInt(tf, window.exampleShape(tf), stream(stream), tf.constant(0),
        tf.constant(max));
    return window.cut(tf, window.shared(tf, all), Shape.of(-1));
  }

  /** Uniform values in [0, 1), one per example (which copies of the batch share). */
  Operand<TFloat32> uniform(long stream) {
    Operand<TFloat32> all = Random.uniform(tf, window.exampleShape(tf), stream(stream));
    return window.cut(tf, window.shared(tf, all), Shape.of(-1));
  }

  /**
   * Standard normal values shaped [N, trailing...]: [] for one per example (which copies of the
   * batch share), else each row's own.
   */
  Operand<TFloat32> normal(long stream, long... trailing) {
    if (trailing.length == 0) {
      Operand<TFloat32> all = Random.normal(tf, window.exampleShape(tf), stream(stream));
      return window.cut(tf, window.shared(tf, all), Shape.of(-1));
    }
    int[] dims = Arrays.stream(trailing).mapToInt(Math::toIntExact).toArray();
    Operand<TFloat32> all = Random.normal(tf, window.fullShape(tf, tf.constant(dims)), stream(stream));
    // static sizes for the trailing axes keep the shape known to the graph
    return window.cut(tf, all, Shape.of(Tensors.batchShape(-1, trailing)));
  }

  /** Standard normal noise shaped like one batch of examples. */
  Operand<TFloat32> noiseLikeExamples(long stream) {
    return normal(stream, perExample);
  }

  private Operand<TInt64> stream(long stream) {
    return tf.math.add(seed, tf.constant(new long[] {0, stream << 40}));
  }
}
