package io.diffusion4j.diffusion;

import io.diffusion4j.nn.Forward;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * WeightedObjectiveGaussianDiffusion's reading of the network (the reference's own
 * improvisation): its output holds a noise prediction, an x0 prediction and two weights per
 * pixel, whose softmax mixes the x0 the noise implies with the predicted x0. Trained on the
 * mixture's x0 error plus pred_x_start_loss_weight and pred_noise_loss_weight times the two
 * predictions' own errors.
 */
final class WeightedObjective {
  private WeightedObjective() {}

  /** The network's three parts: noise [.., C], x0 [.., C], weights [.., 2] softmax-normalised. */
  record Parts(Operand<TFloat32> noise, Operand<TFloat32> xStart, Operand<TFloat32> weights) {
    /** The weighted x0 of {@code fromNoise} (the x0 the noise implies) and the predicted one. */
    Operand<TFloat32> mix(Ops tf, Operand<TFloat32> fromNoise) {
      List<Operand<TFloat32>> w = List.of(GaussianDiffusion.channels(tf, weights, 0, 1),
          GaussianDiffusion.channels(tf, weights, 1, 1));
      return tf.math.add(tf.math.mul(w.get(0), fromNoise), tf.math.mul(w.get(1), xStart));
    }
  }

  static Parts parts(Ops tf, Operand<TFloat32> out, int channels) {
    return new Parts(GaussianDiffusion.channels(tf, out, 0, channels),
        GaussianDiffusion.channels(tf, out, channels, channels),
        tf.nn.softmax(GaussianDiffusion.channels(tf, out, 2 * channels, 2)));
  }

  /** The reference's p_losses, per example; the x0 the noise implies is clamped to [-2, 2] there. */
  static Operand<TFloat32> losses(GaussianDiffusion d, Ops tf, Operand<TFloat32> x0, Operand<TInt32> t,
      Operand<TFloat32> noise, Operand<TInt64> classLabels, Forward fwd) {
    Operand<TFloat32> xt = d.qSample(tf, x0, t, noise);
    Operand<TFloat32> out = d.network().apply(tf, xt, tf.dtypes.cast(t, TFloat32.class), null, classLabels, fwd);
    Parts p = parts(tf, out, d.network().channels());
    GaussianDiffusionConfig c = d.config();
    Operand<TFloat32> noiseLoss = tf.math.mul(Losses.meanPerExample(tf, tf.math.squaredDifference(noise, p.noise())),
        tf.constant((float) c.predNoiseLossWeight()));
    Operand<TFloat32> xStartLoss = tf.math.mul(Losses.meanPerExample(tf, tf.math.squaredDifference(x0, p.xStart())),
        tf.constant((float) c.predXStartLossWeight()));
    Operand<TFloat32> fromNoise = tf.clipByValue(d.predictStartFromNoise(tf, xt, t, p.noise()), tf.constant(-2f),
        tf.constant(2f));
    Operand<TFloat32> weighted = Losses.meanPerExample(tf, tf.math.squaredDifference(x0, p.mix(tf, fromNoise)));
    return tf.math.add(tf.math.add(weighted, xStartLoss), noiseLoss);
  }
}
