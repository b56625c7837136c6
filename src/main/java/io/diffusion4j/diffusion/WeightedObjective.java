package io.diffusion4j.diffusion;

import io.diffusion4j.diffusion.VariancePreserving.Level;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Value;
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
record WeightedObjective(int channels, double predNoiseLossWeight, double predXStartLossWeight)
    implements GaussianVariant {

  /** The network's three parts: noise [.., C], x0 [.., C], weights [.., 2] softmax-normalised. */
  private record Parts(Value noise, Value xStart, Value weights) {
    /** The weighted x0 of {@code fromNoise} (the x0 the noise implies) and the predicted one. */
    Value mix(Value fromNoise) {
      return weights.channels(0, 1).times(fromNoise).plus(weights.channels(1, 1).times(xStart));
    }
  }

  private Parts parts(Value out) {
    return new Parts(out.channels(0, channels), out.channels(channels, channels),
        out.channels(2 * channels, 2).apply((tf, o) -> tf.nn.softmax(o)));
  }

  @Override
  public void check(Network network, String type) {
    if (network.outDim() != 2 * channels + 2) {
      throw new IllegalArgumentException(type + " needs out_dim = 2 x channels + 2 (" + (2 * channels + 2) + ": the"
          + " noise, x0 and their two weights), got out_dim " + network.outDim());
    }
    GaussianVariant.refuseSelfCondition(network, type);
  }

  @Override
  public Value x0(Level at, Value out) {
    Parts p = parts(out);
    return p.mix(Objective.PRED_NOISE.x0(at, p.noise()));
  }

  /**
   * The reference's p_losses, per example; the x0 the noise implies is clamped to [-2, 2] there. It
   * takes no self-conditioning step (it takes no self-conditioned network).
   */
  @Override
  public Operand<TFloat32> losses(GaussianDiffusion d, Ops tf, Operand<TFloat32> x0, Operand<TInt32> t,
      Operand<TFloat32> noise, Operand<TInt64> classLabels, boolean selfConditionStep, Forward fwd) {
    Operand<TFloat32> xt = d.qSample(tf, x0, t, noise);
    Parts p = parts(Value.of(tf, d.output(tf, xt, t, null, classLabels, fwd)));
    Value start = Value.of(tf, x0);
    Value noiseLoss = Losses.meanSquaredError(Value.of(tf, noise), p.noise()).times(predNoiseLossWeight);
    Value xStartLoss = Losses.meanSquaredError(start, p.xStart()).times(predXStartLossWeight);
    Value fromNoise = Objective.PRED_NOISE.x0(d.level(tf, t, Value.of(tf, xt)), p.noise()).clamp(-2, 2);
    Value weighted = Losses.meanSquaredError(start, p.mix(fromNoise));
    return weighted.plus(xStartLoss).plus(noiseLoss).operand();
  }
}
