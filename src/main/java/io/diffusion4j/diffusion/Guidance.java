package io.diffusion4j.diffusion;

import io.diffusion4j.io.Check;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Forward;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * Classifier-free guidance (Ho and Salimans 2022) as the reference's {@code forward_with_cond_scale}
 * applies it to the network's raw outputs: the update from the unconditional to the conditional
 * output, optionally without its component parallel to the conditional output (Sadat et al.
 * 2024), scaled by cond_scale - 1, then rescaled towards the conditional output's standard
 * deviation by rescaled_phi (Lin et al. 2024). cond_scale itself is a graph input so that one
 * graph serves every scale; the other settings are fixed when the graph is built.
 */
public record Guidance(double condScale, double rescaledPhi, boolean removeParallelComponent, double keepParallelFrac) {

  /** The reference's sample() defaults: cond_scale 6, rescaled_phi 0.7, the parallel component removed. */
  public static final Guidance DEFAULT = new Guidance(6, 0.7, true, 0);

  public Guidance {
    Check.nonNegative("cond_scale", condScale);
    Check.within("rescaled_phi", rescaledPhi, 0, 1, false);
    Check.within("keep_parallel_frac", keepParallelFrac, 0, 1, false);
  }

  /** Fails unless {@code network} has an unconditional path (a null class) to guide from. */
  public static void require(Network network) {
    if (network == null || network.numClasses() == 0) {
      throw new IllegalArgumentException("classifier-free guidance (cond_scale, rescaled_phi) needs a class-conditional"
          + " model; this one takes no class labels");
    }
    if (!network.nullClass()) {
      throw new IllegalArgumentException("the network has no unconditional path (a class-conditional "
          + "KarrasUnet always needs its class, as in the reference): classifier-free guidance needs one, such as"
          + " classifier_free_guidance.Unet's null class; sample it with cond_scale 1");
    }
  }

  /** A network's output for a batch: guided, and the unconditional one it was guided from (null when unguided). */
  public record Outputs(Operand<TFloat32> out, Operand<TFloat32> uncond) {}

  /**
   * Evaluates {@code network} as {@code c} asks: plainly, or guided, the conditional and
   * unconditional halves run as one batch of twice the size (one network call per step).
   */
  public static Outputs evaluate(Ops tf, Network network, Operand<TFloat32> x, Operand<TFloat32> time,
      Conditioning c, Forward fwd) {
    if (!c.guided()) {
      return new Outputs(network.apply(tf, x, time, c.selfCond(), c.classLabels(), fwd), null);
    }
    require(network);
    Operand<TInt64> labels = c.classLabels();
    Operand<TFloat32> both = network.apply(tf, twice(tf, x, x), twice(tf, time, time),
        c.selfCond() == null ? null : twice(tf, c.selfCond(), c.selfCond()),
        twice(tf, labels, tf.fill(tf.shape(labels), tf.constant(-1L))), fwd);
    List<Output<TFloat32>> halves = tf.split(tf.constant(0), both, 2L).output();
    Operand<TFloat32> cond = halves.get(0);
    Operand<TFloat32> uncond = halves.get(1);
    Operand<TFloat32> guided = c.guidance().apply(tf, cond, uncond, c.condScale());
    long[] dims = x.shape().asArray();
    if (dims == null) {
      return new Outputs(guided, uncond);
    }
    // x's shape with the network's output channels, which the doubled batch hides from the graph
    dims[dims.length - 1] = network.outDim();
    Shape shape = Shape.of(dims);
    return new Outputs(tf.ensureShape(guided, shape), tf.ensureShape(uncond, shape));
  }

  private static <T extends TType> Operand<T> twice(Ops tf, Operand<T> a, Operand<T> b) {
    return tf.concat(List.of(a, b), tf.constant(0));
  }

  /** Plain conditional sampling: cond_scale 1 needs no unconditional evaluation (one network run per step). */
  public boolean conditionalOnly() {
    return condScale == 1;
  }

  public Guidance withCondScale(double v) {
    return new Guidance(v, rescaledPhi, removeParallelComponent, keepParallelFrac);
  }

  /** What the graph fixes: every setting but cond_scale. */
  public String graphKey() {
    return rescaledPhi + "/" + removeParallelComponent + "/" + keepParallelFrac;
  }

  /**
   * The guided output from the conditional and unconditional outputs of one batch.
   *
   * @param condScale float32 scalar
   */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> cond, Operand<TFloat32> uncond, Operand<TFloat32> condScale) {
    Operand<TFloat32> update = tf.math.sub(cond, uncond);
    if (removeParallelComponent) {
      update = withoutParallel(tf, update, cond);
    }
    Operand<TFloat32> scaled = tf.math.add(cond, tf.math.mul(update, tf.math.sub(condScale, tf.constant(1f))));
    if (rescaledPhi == 0) {
      return scaled;
    }
    // std over each example (torch.std's n - 1 cancels in the ratio)
    Operand<TFloat32> rescaled = tf.math.mul(scaled, tf.math.div(std(tf, cond), std(tf, scaled)));
    return tf.math.add(tf.math.mul(rescaled, tf.constant((float) rescaledPhi)),
        tf.math.mul(scaled, tf.constant((float) (1 - rescaledPhi))));
  }

  /**
   * The update minus (1 - keep_parallel_frac) of its projection on the conditional output, each
   * example flattened, in float64 as the reference's project().
   */
  private Operand<TFloat32> withoutParallel(Ops tf, Operand<TFloat32> update, Operand<TFloat32> cond) {
    Operand<TFloat64> x = flat(tf, update);
    Operand<TFloat64> y = flat(tf, cond);
    Operand<TFloat64> norm = tf.math.sqrt(tf.reduceSum(tf.math.square(y), tf.constant(1), ReduceSum.keepDims(true)));
    Operand<TFloat64> unit = tf.math.div(y, tf.math.maximum(norm, tf.constant(1e-12)));
    Operand<TFloat64> parallel = tf.math.mul(tf.reduceSum(tf.math.mul(x, unit), tf.constant(1), ReduceSum.keepDims(true)),
        unit);
    Operand<TFloat64> kept = tf.math.sub(x, tf.math.mul(parallel, tf.constant(1 - keepParallelFrac)));
    return tf.reshape(tf.dtypes.cast(kept, TFloat32.class), tf.shape(update));
  }

  private static Operand<TFloat64> flat(Ops tf, Operand<TFloat32> x) {
    Operand<TInt64> rows = tf.dtypes.cast(tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1})),
        TInt64.class);
    return tf.reshape(tf.dtypes.cast(x, TFloat64.class), tf.concat(List.of(rows, tf.constant(new long[] {-1})),
        tf.constant(0)));
  }

  private static Operand<TFloat32> std(Ops tf, Operand<TFloat32> x) {
    // every axis but the batch's, whether or not the graph knows the rank (a loop body may not)
    Operand<TInt32> axes = tf.range(tf.constant(1), tf.rank(x), tf.constant(1));
    Operand<TFloat32> mean = tf.math.mean(x, axes, Mean.keepDims(true));
    return tf.math.sqrt(tf.math.mean(tf.math.squaredDifference(x, mean), axes,
        Mean.keepDims(true)));
  }
}
