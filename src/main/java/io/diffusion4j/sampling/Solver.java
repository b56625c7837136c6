package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.nn.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * One sampling algorithm, written once and run by both drivers (the Java session loop and the
 * in-graph while loop): its per-step coefficients, computed in Java from the noise levels (as
 * diffusers' {@code set_timesteps}), and its step, graph maths over the sample, the denoiser
 * and what it carries (as diffusers' {@code step}, or a k-diffusion sampler's loop body).
 *
 * @param <C> the per-step coefficients: a record of {@link Value}s, numbers in the plan, scalars in the step
 * @param <S> what is carried from step to step: a record of {@link Value}s whose first component is the sample x
 */
public abstract class Solver<C extends Record, S extends Record> {
  private final String name;
  private final String description;
  private final int order;
  private final boolean stochastic;
  private final int evaluationsPerStep;
  private final Class<C> coefficients;
  private final Class<S> state;

  /**
   * @param name the name on the command line: k-diffusion's, where it has one
   * @param description one line for the help and the README
   * @param order the order of accuracy of the deterministic method (at eta 0)
   * @param stochastic whether it adds noise as it goes (its eta and s_noise)
   * @param evaluationsPerStep network evaluations per step (the last step may take fewer)
   */
  protected Solver(String name, String description, int order, boolean stochastic, int evaluationsPerStep,
      Class<C> coefficients, Class<S> state) {
    this.name = name;
    this.description = description;
    this.order = order;
    this.stochastic = stochastic;
    this.evaluationsPerStep = evaluationsPerStep;
    this.coefficients = coefficients;
    this.state = state;
  }

  public final String name() {
    return name;
  }

  public final String description() {
    return description;
  }

  public final int order() {
    return order;
  }

  public final boolean stochastic() {
    return stochastic;
  }

  public final int evaluationsPerStep() {
    return evaluationsPerStep;
  }

  public final Class<C> coefficients() {
    return coefficients;
  }

  public final Class<S> state() {
    return state;
  }

  /** Network evaluations of a run of {@code steps} steps: the last step takes one. */
  public int evaluations(int steps) {
    return evaluationsPerStep * (steps - 1) + 1;
  }

  /** Whether it takes Karras et al.'s churn (S_churn, S_tmin, S_tmax, S_noise) from an EDM config. */
  public boolean churns() {
    return false;
  }

  /** Whether its step re-noises with the denoiser's noise estimate ({@link Step#estimate}), which CFG++ replaces. */
  public boolean renoises() {
    return false;
  }

  /** The largest eta it takes. */
  public double maxEta() {
    return Double.POSITIVE_INFINITY;
  }

  /** Its eta when none is given. */
  public double defaultEta(Denoiser d) {
    return stochastic ? 1 : 0;
  }

  /** The steps it takes when {@code requested} are asked for (DDPM takes every timestep). */
  public int steps(Denoiser d, int requested) {
    return requested;
  }

  /** The coefficients of every step, from the noise levels ({@code sigmas.length - 1} steps, ending at 0). */
  public abstract List<C> plan(double[] sigmas, Settings settings);

  /** What is carried into the first step: the start sample, and zeros for every estimate a step keeps. */
  public S start(Value x) {
    List<Value> values = new ArrayList<>(List.of(x));
    while (values.size() < Records.names(state).size()) {
      values.add(x.zerosLike());
    }
    return Records.of(state, values);
  }

  /**
   * One step in the graph.
   *
   * @param last the final step, to sigma 0 (where second-order methods take an Euler step)
   */
  public abstract S step(Step step, S state, C c, boolean last);

  @Override
  public String toString() {
    return name;
  }
}
