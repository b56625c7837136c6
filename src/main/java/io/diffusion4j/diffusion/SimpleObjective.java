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
 * The reference's GaussianDiffusion (and GaussianDiffusion1D, and classifier_free_guidance's): the
 * network's output is the objective's prediction, trained on Ho et al. 2020's simple loss, the
 * squared error of that prediction, weighted per timestep so that each objective is the same
 * (min-SNR-gamma clipped, where the config asks) x0 error.
 */
record SimpleObjective(Objective objective) implements GaussianVariant {

  @Override
  public void check(Network network, String type) {
    if (network.outDim() != network.channels()) {
      throw new IllegalArgumentException(type + " needs out_dim == channels (" + network.channels() + "), got out_dim "
          + network.outDim() + ": learned_variance needs LearnedGaussianDiffusion");
    }
  }

  @Override
  public Value x0(Level at, Value out) {
    return objective.x0(at, out);
  }

  @Override
  public Value statedNoise(Value out) {
    return objective.statedNoise(out);
  }

  /**
   * With {@code selfConditionStep} the network is first run without self-conditioning and its x0
   * estimate, with gradients stopped, conditions the second run.
   */
  @Override
  public Operand<TFloat32> losses(GaussianDiffusion d, Ops tf, Operand<TFloat32> x0, Operand<TInt32> t,
      Operand<TFloat32> noise, Operand<TInt64> classLabels, boolean selfConditionStep, Forward fwd) {
    Operand<TFloat32> xt = d.qSample(tf, x0, t, noise);
    Operand<TFloat32> selfCond = null;
    if (selfConditionStep) {
      if (!d.network().selfCondition()) {
        throw new IllegalArgumentException("self-conditioning step asked of a network built with self_condition=False");
      }
      selfCond = tf.stopGradient(d.predictions(tf, xt, t, null, classLabels, false, false, fwd).xStart());
    }
    Value out = Value.of(tf, d.output(tf, xt, t, selfCond, classLabels, fwd));
    Value target = Value.of(tf, d.target(tf, objective, x0, t, noise));
    Value weight = Value.of(tf, tf.gather(tf.constant(NoiseSchedule.toFloat(d.lossWeight())), t, tf.constant(0)));
    return Losses.meanSquaredError(out, target).times(weight).operand();
  }
}
