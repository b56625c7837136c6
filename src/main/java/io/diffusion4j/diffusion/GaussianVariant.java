package io.diffusion4j.diffusion;

import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Forward;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * A Gaussian diffusion's reading of its network and the loss that trains it: the reference's
 * GaussianDiffusion ({@link SimpleObjective}) and the modules that subclass it to read the network
 * otherwise ({@link LearnedVariance}, {@link WeightedObjective}). {@link GaussianDiffusion} does
 * the rest (the schedule, the forward process, the sigma view) the same for each.
 */
interface GaussianVariant extends VariancePreserving.Reading {

  /** The variant of {@code config}'s module, for data of {@code channels} channels. */
  static GaussianVariant of(GaussianDiffusionConfig config, int channels) {
    return switch (config.module()) {
      case PLAIN, GUIDED -> new SimpleObjective(config.objective());
      case LEARNED -> new LearnedVariance(channels, config.vbLossWeight());
      case WEIGHTED -> new WeightedObjective(channels, config.predNoiseLossWeight(), config.predXStartLossWeight());
    };
  }

  /** Fails, saying why, unless {@code network}'s output is what this variant reads. */
  void check(Network network, String type);

  /**
   * The training loss of each example, [N] (the reference's p_losses with loss_reduction='none'),
   * of clean data {@code x0} noised at timesteps {@code t} by {@code noise}.
   *
   * @param selfConditionStep first predict x0 without self-conditioning and feed it back, with
   *     gradients stopped
   */
  Operand<TFloat32> losses(GaussianDiffusion d, Ops tf, Operand<TFloat32> x0, Operand<TInt32> t,
      Operand<TFloat32> noise, Operand<TInt64> classLabels, boolean selfConditionStep, Forward fwd);

  /** Fails for a self-conditioned network, which the reference's modules other than GaussianDiffusion cannot feed. */
  static void refuseSelfCondition(Network network, String type) {
    if (network.selfCondition()) {
      throw new IllegalArgumentException(type + " does not take a self-conditioned network (nor does the reference):"
          + " set self_condition false");
    }
  }
}
