package io.diffusion4j.models;

import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssertThat;
import org.tensorflow.op.core.Squeeze;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * What every network does first and last, in one place: checks the input's layout, size and
 * conditioning against what the network was built for, runs sequences as images of height 1,
 * puts the self-conditioning input beside x (zeros when none is given), and at the end turns the
 * output back into a sequence.
 */
final class NetworkInput {
  private final int rank;
  private final Operand<TFloat32> x;

  private NetworkInput(int rank, Operand<TFloat32> x) {
    this.rank = rank;
    this.x = x;
  }

  /**
   * @param type the network's config.json type, for messages
   * @param x [N, ..., channels]; a spatial size unknown when the graph is built is checked when it runs
   */
  static NetworkInput of(Ops tf, Network net, String type, Operand<TFloat32> x, Operand<TFloat32> selfCond,
      Operand<TInt64> classLabels) {
    int rank = net.spatialRank();
    long[] shape = x.shape().asArray();
    if (shape.length != rank + 2 || shape[shape.length - 1] != net.channels()) {
      throw new IllegalArgumentException(type + " expects input [N, " + (rank == 1 ? "L" : rank == 2 ? "H, W" : "F, H, W")
          + ", " + net.channels() + "], got " + x.shape());
    }
    long[] spatial = Arrays.copyOfRange(shape, 1, shape.length - 1);
    net.checkSpatialSize(spatial);
    if (Arrays.stream(spatial).anyMatch(d -> d < 0)) {
      x = net.checkSizeWhenRun(tf, x);
    }
    if (selfCond != null && !net.selfCondition()) {
      throw new IllegalArgumentException("x_self_cond given to a network built with self_condition=False");
    }
    if ((classLabels != null) != (net.numClasses() > 0)) {
      throw new IllegalArgumentException(net.numClasses() > 0
          ? type + " was built with num_classes=" + net.numClasses() + ": it needs class labels"
          : type + " is not class-conditional: it takes no class labels");
    }
    if (rank == 1) {
      x = tf.expandDims(x, tf.constant(1));
      selfCond = selfCond == null ? null : tf.expandDims(selfCond, tf.constant(1));
    }
    if (net.selfCondition()) {
      x = tf.concat(List.of(selfCond == null ? tf.zerosLike(x) : selfCond, x), tf.constant(-1));
    }
    return new NetworkInput(rank, x);
  }

  /**
   * Throws unless {@code spatial} has {@code rank} sizes, each a positive multiple of
   * {@code factor}; -1 (a size known only when the graph runs) is left to {@link #divisibleWhenRun}.
   *
   * @param divisibility the rule, for messages: "must be divisible by ..."
   */
  static void checkDivisible(String type, int rank, long[] spatial, int factor, String divisibility) {
    if (spatial.length != rank) {
      throw new IllegalArgumentException(type + " takes " + rank + " spatial dimension(s), got " + Arrays.toString(spatial));
    }
    for (long d : spatial) {
      if (d != -1 && (d <= 0 || d % factor != 0)) {
        throw new IllegalArgumentException("input size " + Arrays.toString(spatial) + " " + divisibility);
      }
    }
  }

  /** {@code x} [N, ..., C] once the check of {@link #checkDivisible} has passed when the graph runs. */
  static Operand<TFloat32> divisibleWhenRun(Ops tf, String type, int rank, Operand<TFloat32> x, int factor,
      String divisibility) {
    Operand<TInt32> spatial = tf.slice(tf.shape(x), tf.constant(new int[] {1}), tf.constant(new int[] {rank}));
    Operand<TBool> ok = tf.reduceAll(tf.math.logicalAnd(tf.math.greater(spatial, tf.constant(0)),
        tf.math.equal(tf.math.floorMod(spatial, tf.constant(factor)), tf.constant(0))), tf.constant(0));
    AssertThat check = tf.assertThat(ok, List.of(tf.constant(type + " input size"), spatial, tf.constant(divisibility)));
    return tf.withControlDependencies(List.of(check)).identity(x);
  }

  /** The input as the network's first layer takes it. */
  Operand<TFloat32> x() {
    return x;
  }

  /** The network's last activation in the input's layout. */
  Operand<TFloat32> output(Ops tf, Operand<TFloat32> out) {
    return rank == 1 ? tf.squeeze(out, Squeeze.axis(List.of(1L))) : out;
  }
}
