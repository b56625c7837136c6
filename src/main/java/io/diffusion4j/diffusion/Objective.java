package io.diffusion4j.diffusion;

import java.util.Locale;

/** What the network predicts: the noise, the clean data, or v = sqrt(a) eps - sqrt(1-a) x0. */
public enum Objective implements io.diffusion4j.io.ConfigRecords.Choice {
  PRED_NOISE,
  PRED_X0,
  /** Salimans and Ho 2022, appendix D. */
  PRED_V;

  public static Objective parse(String name) {
    for (Objective o : values()) {
      if (o.configName().equals(name)) {
        return o;
      }
    }
    throw new IllegalArgumentException("objective = \"" + name + "\" is not allowed: expected pred_noise, pred_x0 or pred_v");
  }

  @Override
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
