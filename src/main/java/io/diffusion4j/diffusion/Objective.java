package io.diffusion4j.diffusion;


/** What the network predicts: the noise, the clean data, or v = sqrt(a) eps - sqrt(1-a) x0. */
public enum Objective {
  PRED_NOISE,
  PRED_X0,
  /** Salimans and Ho 2022, appendix D. */
  PRED_V;

}
