package io.diffusion4j.train;

/** The learning rate at each step, from the configured train_lr: a hook for schedules. */
@FunctionalInterface
public interface LearningRateSchedule {

  /** @param step 0-based index of the step about to run */
  double lr(double trainLr, long step);

  /** The reference's behaviour: train_lr throughout. */
  LearningRateSchedule CONSTANT = (trainLr, step) -> trainLr;
}
