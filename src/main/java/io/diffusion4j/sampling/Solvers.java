package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.SamplingDefaults;
import io.diffusion4j.diffusion.SamplingDefaults.Procedure;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The catalogue of solvers: the command line, its help, serving_default, the README's table and
 * the tests all enumerate this list, so a solver added here is added everywhere.
 */
public final class Solvers {
  private static final Ddpm DDPM = new Ddpm();
  private static final Ddim DDIM = new Ddim();
  private static final Euler EULER = new Euler();
  private static final Heun HEUN = new Heun();
  private static final DpmPp2M DPMPP_2M = new DpmPp2M();
  private static final List<Solver<?, ?>> ALL = List.of(DDPM, DDIM, EULER, new EulerAncestral(), HEUN, new Dpm2(),
      DPMPP_2M, new DpmPp2MSde(), new DpmPp3MSde(), new DpmPp2SAncestral(), new UniPc());

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

  /** The solver that is the reference's sampling procedure {@code p}. */
  public static Solver<?, ?> of(Procedure p) {
    return switch (p) {
      case DDPM -> DDPM;
      case DDIM -> DDIM;
      case HEUN -> HEUN;
      case DPMPP_2M -> DPMPP_2M;
      case EULER -> EULER;
    };
  }

  /** The reference's procedure that {@code s} is, or null when it is none of them. */
  public static Procedure procedureOf(Solver<?, ?> s) {
    return Arrays.stream(Procedure.values()).filter(p -> of(p) == s).findFirst().orElse(null);
  }

  /** The solver a model's config implies: the one it names, else its procedure's. */
  public static Solver<?, ?> defaultFor(Denoiser d) {
    SamplingDefaults defaults = d.samplingDefaults();
    return defaults.sampler() != null ? named(defaults.sampler()) : of(defaults.procedure());
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
          .append(s == DDPM ? " | all (Gaussian: every timestep) |\n" : " | all |\n");
    }
    return sb.toString();
  }
}
