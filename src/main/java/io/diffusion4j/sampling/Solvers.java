package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.sampling.solvers.Ddim;
import io.diffusion4j.sampling.solvers.Ddpm;
import io.diffusion4j.sampling.solvers.Dpm2;
import io.diffusion4j.sampling.solvers.DpmPp2M;
import io.diffusion4j.sampling.solvers.DpmPp2MSde;
import io.diffusion4j.sampling.solvers.DpmPp2SAncestral;
import io.diffusion4j.sampling.solvers.DpmPp3MSde;
import io.diffusion4j.sampling.solvers.Euler;
import io.diffusion4j.sampling.solvers.EulerAncestral;
import io.diffusion4j.sampling.solvers.Heun;
import io.diffusion4j.sampling.solvers.UniPc;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The catalogue of solvers: the command line, its help, serving_default, the README's table and
 * the tests all enumerate this list, so a solver added here is added everywhere.
 */
public final class Solvers {
  private static final List<Solver<?, ?>> ALL = List.of(new Ddpm(), new Ddim(), new Euler(), new EulerAncestral(),
      new Heun(), new Dpm2(), new DpmPp2M(), new DpmPp2MSde(), new DpmPp3MSde(), new DpmPp2SAncestral(), new UniPc());

  /** Other names a solver answers to: the earlier command line's. */
  private static final Map<String, String> ALIASES = Map.of("dpmpp", "dpmpp_2m");

  private Solvers() {}

  public static List<Solver<?, ?>> all() {
    return ALL;
  }

  /** The solver called {@code name} (or one of its aliases). */
  public static Solver<?, ?> named(String name) {
    String canonical = ALIASES.getOrDefault(name, name);
    return ALL.stream().filter(s -> s.name().equals(canonical)).findFirst().orElseThrow(() ->
        new IllegalArgumentException("sampler " + name + " is not allowed: expected " + names()));
  }

  /** Every name, comma-separated, for help texts and errors. */
  public static String names() {
    return ALL.stream().map(Solver::name).collect(Collectors.joining(", "))
        + ALIASES.entrySet().stream().map(e -> " (" + e.getKey() + " = " + e.getValue() + ")").collect(Collectors.joining());
  }

  /** The solver a model's config implies. */
  public static Solver<?, ?> defaultFor(Denoiser d) {
    return named(d.defaultSampler());
  }

  /** The README's table of solvers, one row each. */
  public static String markdownTable() {
    StringBuilder sb = new StringBuilder("| sampler | what | order | noise | evaluations per step | models |\n"
        + "| --- | --- | --- | --- | --- | --- |\n");
    for (Solver<?, ?> s : ALL) {
      String noise = !s.stochastic() ? s.churns() ? "deterministic (but for EDM's churn)" : "deterministic"
          : s.defaultEta(null) == 0 ? "deterministic at eta 0, the default" : "stochastic (eta, s_noise)";
      sb.append("| `").append(s.name()).append("` | ").append(s.description()).append(" | ").append(s.order())
          .append(" | ").append(noise).append(" | ").append(s.evaluationsPerStep())
          .append(s.evaluationsPerStep() > 1 ? " (1 on the last)" : "")
          .append(s.name().equals("ddpm") ? " | all (Gaussian: every timestep) |\n" : " | all |\n");
    }
    return sb.toString();
  }
}
