package io.diffusion4j.sampling;

import java.util.Locale;

/** The samplers, by the names the command line and config use. */
public enum Sampler {
  DDPM,
  DDIM;

  public static Sampler parse(String name) {
    for (Sampler s : values()) {
      if (s.name().toLowerCase(Locale.ROOT).equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException("sampler \"" + name + "\" is not allowed: expected ddpm or ddim");
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
