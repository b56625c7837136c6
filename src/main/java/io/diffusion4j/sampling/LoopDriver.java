package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.nn.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * Runs a solver as one TensorFlow while loop, for graphs that sample on their own (the
 * SavedModel's {@code serving_default}): the same steps, coefficients and noise streams as the
 * {@link SessionDriver}, so both give the same images for the same settings and seed.
 *
 * <p>A loop body cannot read the outer graph's tensors, so the weights enter as loop variables
 * and the body rebuilds the network on them ({@link Parameters#bound}). The coefficients come
 * from the solver's own plan, tabulated for every step count up to a maximum and sliced by the
 * {@code steps} input in the graph; the final step, to sigma 0, runs after the loop.
 */
public final class LoopDriver<C extends Record, S extends Record> {
  private final Denoiser denoiser;
  private final Function<Parameters, Denoiser> rebuild;
  private final Solver<C, S> solver;
  /** Guidance's fixed settings (its scale is an input of the graph), or null. */
  private final Guidance guidance;
  private final boolean clamp;
  private final int maxSteps;
  private final int columns;
  /** Every step count's coefficients, one row per step, step counts one after the other. */
  private final float[][] table;
  /** Where step count k's rows start in the table, and how many there are. */
  private final int[] offsets;
  private final int[] counts;
  /** The start's scale for each step count. */
  private final float[] startScales;

  /**
   * @param denoiser the model's denoiser in the outer graph
   * @param rebuild the same denoiser over a network built on the given parameters (the loop
   *     body's), or null for a denoiser without a network
   * @param settings the solver, schedule, eta, s_noise, churn and clamping (its steps and seed are not used)
   * @param maxSteps the largest step count the loop takes
   */
  @SuppressWarnings("unchecked")
  public LoopDriver(Denoiser denoiser, Function<Parameters, Denoiser> rebuild, Settings settings, int maxSteps) {
    this.denoiser = denoiser;
    this.rebuild = rebuild;
    this.solver = (Solver<C, S>) settings.solver();
    this.guidance = settings.guidance();
    this.clamp = settings.clipDenoised();
    this.maxSteps = maxSteps;
    this.columns = Records.names(solver.coefficients()).size();
    List<float[]> rows = new ArrayList<>();
    offsets = new int[maxSteps + 1];
    counts = new int[maxSteps + 1];
    startScales = new float[maxSteps + 1];
    Map<Integer, Integer> tabulated = new HashMap<>();
    for (int k = 1; k <= maxSteps; k++) {
      int actual = solver.steps(denoiser, k);
      double[] sigmas = settings.schedule().sigmas(denoiser, actual);
      startScales[k] = (float) denoiser.startScale(sigmas[0]);
      counts[k] = sigmas.length - 1;
      // a solver that takes a fixed count (DDPM: every timestep) is tabulated once
      Integer known = tabulated.get(actual);
      if (known != null) {
        offsets[k] = known;
        continue;
      }
      offsets[k] = rows.size();
      tabulated.put(actual, rows.size());
      for (C c : solver.plan(sigmas, settings)) {
        List<Value> values = Records.values(c);
        float[] row = new float[columns];
        for (int j = 0; j < columns; j++) {
          row[j] = (float) values.get(j).number();
        }
        rows.add(row);
      }
    }
    table = rows.toArray(new float[0][]);
  }

  public Solver<C, S> solver() {
    return solver;
  }

  public int maxSteps() {
    return maxSteps;
  }

  /**
   * Adds the loop to the graph of {@code tf}.
   *
   * @param network the outer network, whose parameters the loop reads once (null without one)
   * @param seed int64 scalar, the run's seed, as the session driver takes it
   * @param num int32 scalar, the number of samples (images 0 .. num - 1 of the run)
   * @param steps int32 scalar in [1, maxSteps()]
   * @param classLabels int64 [num] for class-conditional networks, else null
   * @param condScale float32 scalar, guidance's scale, for settings with guidance (else null)
   * @return the samples in data space, channels-last
   */
  public Operand<TFloat32> sample(Ops tf, Network network, Operand<TInt64> seed, Operand<TInt32> num,
      Operand<TInt32> steps, Operand<TInt64> classLabels, Operand<TFloat32> condScale) {
    if ((guidance != null) != (condScale != null)) {
      throw new IllegalArgumentException(guidance != null ? "guided settings need cond_scale" : "cond_scale given to unguided settings");
    }
    // a graph may hold several loops (a SavedModel's signatures, a test's solvers): each its own frame
    String frame = tf.scope().makeUnique("loop_driver");
    Ops outer = tf.withSubScope(frame);
    Operand<TInt32> k = checkedSteps(outer, steps);
    // rows offsets[k] .. offsets[k] + counts[k] - 1 of the table are the k-step run's
    Operand<TInt32> offset = outer.gather(outer.constant(offsets), k, outer.constant(0));
    Operand<TInt32> count = outer.gather(outer.constant(counts), k, outer.constant(0));
    Operand<TFloat32> rows = outer.slice(outer.constant(table), outer.stack(List.of(offset, outer.constant(0))),
        outer.stack(List.of(count, outer.constant(-1))));
    long[] perExample = denoiser.sampleShape();
    Operand<TInt32> shape = outer.concat(List.of(outer.reshape(num, outer.constant(new int[] {1})),
        outer.constant(Arrays.stream(perExample).mapToInt(Math::toIntExact).toArray())), outer.constant(0));
    Operand<TFloat32> noise = ImageNoise.draw(outer, seed, outer.constant(ImageNoise.START), outer.constant(0L),
        shape, perExample);
    Value x0 = Value.of(outer, outer.math.mul(noise, outer.gather(outer.constant(startScales), k, outer.constant(0))));
    List<Value> start = Records.values(solver.start(x0));
    boolean selfConditioned = denoiser.selfConditioned();
    // every step but the last runs in the loop
    Operand<TInt32> loopSteps = outer.math.sub(count, outer.constant(1));

    List<Operand<?>> vars = new ArrayList<>(List.of(outer.constant(0), loopSteps, seed, rows));
    int stateAt = vars.size();
    start.forEach(v -> vars.add(v.operand()));
    int estimateAt = vars.size();
    if (selfConditioned) {
      vars.add(outer.zerosLike(x0.operand()));
    }
    int labelsAt = vars.size();
    if (classLabels != null) {
      vars.add(classLabels);
    }
    int scaleAt = vars.size();
    if (condScale != null) {
      vars.add(condScale);
    }
    Map<String, Integer> slot = new HashMap<>();
    if (network != null) {
      for (Parameters.Param p : network.parameters().all()) {
        slot.put(p.name(), vars.size());
        vars.add(outer.identity(p.value()));
      }
    }
    // the loop's inputs and outputs come without static shapes, which the network checks
    Shape batch = Shape.of(Tensors.batchShape(-1, perExample));
    Output<?>[] in = vars.stream().map(Operand::asOutput).toArray(Output<?>[]::new);
    Output<?>[] out = ((Graph) outer.scope().env()).whileLoop(in, (g, ins, cond) -> {
      Ops c = Ops.create(g);
      cond[0] = c.math.less(cast(ins[0], TInt32.class), cast(ins[1], TInt32.class)).asOutput();
    }, (g, ins, next) -> {
      Ops b = Ops.create(g);
      Denoiser d = network == null ? denoiser
          : rebuild.apply(Parameters.bound(b, name -> cast(ins[slot.get(name)], TFloat32.class)));
      Operand<TInt32> i = cast(ins[0], TInt32.class);
      List<Operand<TFloat32>> state = new ArrayList<>();
      for (int j = 0; j < start.size(); j++) {
        state.add(b.ensureShape(cast(ins[stateAt + j], TFloat32.class), batch));
      }
      Operand<TFloat32> estimate = selfConditioned ? b.ensureShape(cast(ins[estimateAt], TFloat32.class), batch) : null;
      Step step = new Step(b, d, classLabels != null ? cast(ins[labelsAt], TInt64.class) : null, guidance,
          condScale != null ? cast(ins[scaleAt], TFloat32.class) : null, clamp, estimate,
          cast(ins[2], TInt64.class), b.dtypes.cast(i, TInt64.class), b.constant(0L), state.get(0));
      List<Value> after = step(b, step, state, b.gather(cast(ins[3], TFloat32.class), i, b.constant(0)), false);
      System.arraycopy(ins, 0, next, 0, ins.length);
      next[0] = b.math.add(i, b.constant(1)).asOutput();
      for (int j = 0; j < after.size(); j++) {
        next[stateAt + j] = after.get(j).operand().asOutput();
      }
      if (selfConditioned) {
        next[estimateAt] = step.estimate().asOutput();
      }
    }, frame);
    List<Operand<TFloat32>> state = new ArrayList<>();
    for (int j = 0; j < start.size(); j++) {
      state.add(outer.ensureShape(cast(out[stateAt + j], TFloat32.class), batch));
    }
    Step last = new Step(outer, denoiser, classLabels, guidance, condScale, clamp,
        selfConditioned ? outer.ensureShape(cast(out[estimateAt], TFloat32.class), batch) : null, seed,
        outer.dtypes.cast(loopSteps, TInt64.class), outer.constant(0L), state.get(0));
    List<Value> end = step(outer, last, state, outer.gather(rows, loopSteps, outer.constant(0)), true);
    return denoiser.images(outer, end.get(0).operand());
  }

  /** One step of the solver on the carried tensors, its coefficients the table's row. */
  private List<Value> step(Ops tf, Step step, List<Operand<TFloat32>> state, Operand<TFloat32> row, boolean last) {
    List<Value> c = new ArrayList<>();
    for (int j = 0; j < columns; j++) {
      c.add(Value.of(tf, tf.ensureShape(tf.gather(row, tf.constant(j), tf.constant(0)), Shape.scalar())));
    }
    List<Value> s = state.stream().map(o -> Value.of(tf, o)).toList();
    S next = solver.step(step, Records.of(solver.state(), s), Records.of(solver.coefficients(), c), last);
    return Records.values(next);
  }

  /** Steps, checked to lie in [1, maxSteps] when the graph runs. */
  private Operand<TInt32> checkedSteps(Ops tf, Operand<TInt32> steps) {
    Operand<TBool> ok = tf.math.logicalAnd(tf.math.greaterEqual(steps, tf.constant(1)),
        tf.math.lessEqual(steps, tf.constant(maxSteps)));
    var check = tf.assertThat(ok, List.of(tf.constant("steps must be in [1, " + maxSteps + "], got"), steps));
    return tf.withControlDependencies(List.of(check)).identity(steps);
  }

  @SuppressWarnings("unchecked")
  private static <T extends TType> Operand<T> cast(Output<?> output, Class<T> type) {
    return (Operand<T>) output;
  }
}
