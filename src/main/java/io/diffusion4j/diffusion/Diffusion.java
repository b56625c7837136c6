package io.diffusion4j.diffusion;

import io.diffusion4j.models.Network;
import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Forward;
import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/** A diffusion process over a denoising network: what training needs of it, and its sigma view for sampling. */
public interface Diffusion extends Denoiser {

  @Override
  Network network();

  DiffusionConfig config();

  /** Every diffusion says how its config samples. */
  @Override
  SamplingDefaults samplingDefaults();

  /** Shape of one example, channels-last. */
  @Override
  default long[] sampleShape() {
    return config().sampleShape(network().channels());
  }

  /**
   * The training loss of each example of one (micro-)batch, [N], its randomness drawn from
   * {@code seed} (int64[2]) (the reference's loss_reduction='none').
   *
   * @param images data in [0, 1] (or as-is without normalisation)
   * @param classLabels [N] for class-conditional networks, else null
   * @param selfConditionStep first predict x0 without self-conditioning and feed it back, with
   *     gradients stopped
   */
  Operand<TFloat32> losses(Ops tf, Operand<TFloat32> images, Operand<TInt64> classLabels, Operand<TInt64> seed,
      BatchWindow window, boolean selfConditionStep, Forward fwd);

  /** The training loss of one (micro-)batch: the mean of {@link #losses}. */
  default Operand<TFloat32> loss(Ops tf, Operand<TFloat32> images, Operand<TInt64> classLabels, Operand<TInt64> seed,
      BatchWindow window, boolean selfConditionStep, Forward fwd) {
    return tf.math.mean(losses(tf, images, classLabels, seed, window, selfConditionStep, fwd), tf.constant(0));
  }

  /**
   * The session holding the variables: a diffusion with weights of its own (a learned noise
   * schedule) reads its sampling levels from it.
   */
  default void attach(Session session) {}

  /** Data space to the diffusion's space: [0, 1] to [-1, 1], as the reference always does (but where auto_normalize is off). */
  @Override
  default Operand<TFloat32> normalize(Ops tf, Operand<TFloat32> x) {
    return tf.math.sub(tf.math.mul(x, tf.constant(2f)), tf.constant(1f));
  }

  default Operand<TFloat32> unnormalize(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(tf.math.add(x, tf.constant(1f)), tf.constant(0.5f));
  }

  /** One value per example [N] shaped [N, 1, ..., 1] to broadcast against a batch of {@code spatialRank} dimensions. */
  static Operand<TFloat32> perExample(Ops tf, Operand<TFloat32> v, int spatialRank) {
    long[] shape = new long[spatialRank + 2];
    Arrays.fill(shape, 1);
    shape[0] = -1;
    return tf.reshape(v, tf.constant(shape));
  }

  /** Data space from the diffusion's, clamped to [-1, 1] first. */
  @Override
  default Operand<TFloat32> images(Ops tf, Operand<TFloat32> x) {
    return unnormalize(tf, tf.clipByValue(x, tf.constant(-1f), tf.constant(1f)));
  }
}
