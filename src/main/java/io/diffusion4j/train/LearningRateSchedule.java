package io.diffusion4j.train;

/** The learning rate at each step, from the configured train_lr: a hook for schedules. */
@FunctionalInterface
public interface LearningRateSchedule {

  /** @param step 0-based index of the step about to run */
  double lr(double trainLr, long step);

  /** The schedules config.json names (lr_schedule). */
  enum Decay {
    CONSTANT, INV_SQRT, COSINE;
  }

  /** The reference's behaviour: train_lr throughout. */
  LearningRateSchedule CONSTANT = (trainLr, step) -> trainLr;

  /**
   * Karras et al. 2023, Eq. 67: train_lr * sigma_ref / sqrt(max(t / t_ref, 1)). As the reference's
   * InvSqrtDecayLRSched is a LambdaLR, the factor multiplies train_lr: with train_lr 1 the rate is
   * the paper's alpha_ref = sigma_ref.
   */
  static LearningRateSchedule inverseSqrt(double tRef, double sigmaRef) {
    if (!(tRef > 0) || !(sigmaRef > 0)) {
      throw new IllegalArgumentException("lr_t_ref = " + tRef + " and lr_sigma_ref = " + sigmaRef + " must be > 0");
    }
    return (trainLr, step) -> trainLr * sigmaRef / Math.sqrt(Math.max(step / tRef, 1));
  }

  /** Half a cosine from train_lr at step 0 to 0 at {@code totalSteps} (0 after it). */
  static LearningRateSchedule cosine(long totalSteps) {
    return (trainLr, step) -> trainLr * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, (double) step / totalSteps)));
  }

  /**
   * This schedule scaled by (step + 1) / warmupSteps over the first warmupSteps steps: Adam's
   * first updates, made from barely averaged moments, are kept small.
   */
  default LearningRateSchedule withWarmup(long warmupSteps) {
    if (warmupSteps <= 0) {
      return this;
    }
    return (trainLr, step) -> lr(trainLr, step) * Math.min(1.0, (step + 1.0) / warmupSteps);
  }
}
