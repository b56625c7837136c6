package io.diffusion4j.sampling;

import io.diffusion4j.nn.Random;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * Standard-normal noise in which every image has values of its own: image {@code i} of a run
 * draws the same numbers whichever batch it is sampled in, so a sample depends only on (seed, its
 * index, the sampler's options), never on the batch size.
 *
 * <p>It is TensorFlow's Philox generator in counter mode: the key is the run's seed, the counter's
 * high word the stream (the start noise, or one step), its low word the position in the run. A
 * Philox call yields four normals, so a batch whose first value sits at position p starts from
 * counter p / 4 and skips p mod 4 values (checked against one long draw in ImageNoiseTest).
 */
public final class ImageNoise {
  /** The stream of the start noise; steps use their index, which is never negative. */
  public static final long START = -1;
  private static final int PHILOX = 1;

  private ImageNoise() {}

  /**
   * Noise for images {@code first} .. {@code first + n - 1} of a run.
   *
   * @param seed int64 scalar, the run's seed
   * @param stream int64 scalar: {@link #START} or a step's index
   * @param first int64 scalar, the index of the batch's first image in the run
   * @param batchShape int32 [rank + 2]: n, then the per-example shape
   * @param perExample the per-example shape, known when the graph is built
   */
  public static Operand<TFloat32> draw(Ops tf, Operand<TInt64> seed, Operand<TInt64> stream, Operand<TInt64> first,
      Operand<TInt32> batchShape, long[] perExample) {
    long size = Arrays.stream(perExample).reduce(1, Math::multiplyExact);
    Operand<TInt64> position = tf.math.mul(first, tf.constant(size));
    Operand<TInt64> skip = tf.math.floorMod(position, tf.constant(4L));
    Operand<TInt64> counter = tf.stack(List.of(tf.math.floorDiv(position, tf.constant(4L)), stream));
    Operand<TInt64> n = tf.dtypes.cast(tf.gather(batchShape, tf.constant(0), tf.constant(0)), TInt64.class);
    Operand<TInt64> values = tf.math.mul(n, tf.constant(size));
    Operand<TFloat32> flat = Random.normal(tf,
        tf.reshape(tf.math.add(values, skip), tf.constant(new int[] {1})),
        asUint64(tf, tf.reshape(seed, tf.constant(new int[] {1}))), asUint64(tf, counter), tf.constant(PHILOX));
    Operand<TFloat32> batch = tf.slice(flat, tf.reshape(skip, tf.constant(new int[] {1})),
        tf.reshape(values, tf.constant(new int[] {1})));
    return tf.reshape(batch, batchShape);
  }

  /** As {@link #draw} for a batch as large as {@code like}. */
  public static Operand<TFloat32> like(Ops tf, Operand<TFloat32> like, Operand<TInt64> seed, Operand<TInt64> stream,
      Operand<TInt64> first, long[] perExample) {
    return draw(tf, seed, stream, first, tf.shape(like), perExample);
  }

  /** The same bits as uint64, the type Philox's key and counter take (TensorFlow Java has no Java class for it). */
  private static Operand<? extends TType> asUint64(Ops tf, Operand<TInt64> x) {
    return tf.scope().opBuilder("Bitcast", "Uint64").addInput(x.asOutput()).setAttr("type", DataType.DT_UINT64)
        .build().output(0);
  }
}
