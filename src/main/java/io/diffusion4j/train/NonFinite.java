package io.diffusion4j.train;

/**
 * What a training step whose loss or gradients are not finite does (NaN losses are the
 * reference's most reported failure). Either way the step changes nothing: not the weights, not
 * Adam's moments, not an EMA.
 */
public enum NonFinite {
  /** End the run, naming the step and the last checkpoint, which predates it. */
  STOP,
  /** Go on, counting the skipped steps; end the run after {@link NonFiniteSteps#MAX_IN_A_ROW} in a row. */
  SKIP;
}
