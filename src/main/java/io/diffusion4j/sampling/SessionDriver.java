package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.nn.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Runs a solver from Java: each step is one session run (holding the step's network
 * evaluations), its coefficients fed as scalars, what it carries kept as native tensors from one
 * run to the next and copied to the JVM only at the end. Each solver's step graph is built once
 * (and once more for its final step), the first time it runs, and serves every run after.
 *
 * <p>It takes the schedule's levels along a {@link Walk}: plain sampling goes down them once, as
 * the {@link LoopDriver} does in the graph; RePaint's walk jumps back up and merges the known
 * pixels in before every step.
 */
public final class SessionDriver implements DiffusionSampler {
  private final Ops tf;
  private final Session session;
  private final Denoiser denoiser;
  private final Walk walk;
  private final Shape batchShape;
  private final NoiseSource noiseSource;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TInt64> index;
  private final Placeholder<TInt64> first;
  private final Placeholder<TInt64> labels;
  private final Placeholder<TFloat32> condScale;
  private final Placeholder<TFloat32> readoutIn;
  private final Operand<TFloat32> readout;
  private final Map<String, StepGraph> steps = new HashMap<>();
  private final Map<String, StartGraph> starts = new HashMap<>();
  /** Built at the first jump: plain sampling never adds it to the graph. */
  private JumpGraph jump;

  /** A step's graph: the placeholders it is fed (its level where the walk's change reads it) and what it returns. */
  private record StepGraph(Placeholder<TFloat32> level, List<Placeholder<TFloat32>> coefficients,
      List<Placeholder<TFloat32>> stateIn, Operand<TFloat32> estimateIn, List<Operand<TFloat32>> out) {}

  /** What a solver carries into its first step, from the start sample. */
  private record StartGraph(Placeholder<TFloat32> x, List<Operand<TFloat32>> state) {}

  /** A jump back up: x + std n, from the run's own noise. */
  private record JumpGraph(Placeholder<TFloat32> x, Placeholder<TFloat32> std, Operand<TFloat32> out) {}

  /**
   * Adds the sampling graph for {@code denoiser} to the graph of {@code root}; {@code session}
   * runs that graph with the network's weights loaded.
   */
  public SessionDriver(Ops root, Session session, Denoiser denoiser) {
    this(root, session, denoiser, Walk.DOWN);
  }

  /** As above, every run taking the levels along {@code walk}. */
  public SessionDriver(Ops root, Session session, Denoiser denoiser, Walk walk) {
    this.tf = root.withSubScope("sampler");
    this.session = session;
    this.denoiser = denoiser;
    this.walk = walk;
    long[] perExample = denoiser.sampleShape();
    this.batchShape = Shape.of(Tensors.batchShape(-1, perExample));
    this.noiseSource = new NoiseSource(tf, session, perExample);
    this.seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    this.index = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    this.first = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    this.labels = denoiser.numClasses() > 0 ? tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1))) : null;
    this.condScale = tf.withName("cond_scale").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    this.readoutIn = tf.placeholder(TFloat32.class, Placeholder.shape(batchShape));
    this.readout = walk.finish(tf, denoiser.images(tf, readoutIn));
  }

  @Override
  public Denoiser denoiser() {
    return denoiser;
  }

  @Override
  public FloatArray initialNoise(long firstImage, int num, long seedValue) {
    return noiseSource.draw(firstImage, num, seedValue);
  }

  @Override
  public FloatArray sample(Settings settings, FloatArray noise, long firstImage, long[] classLabels) {
    SampleInputs.checkBatch("noise", noise.shape(), denoiser.sampleShape());
    SampleInputs.checkLabels("class labels", classLabels, denoiser.numClasses(), noise.shape()[0], false);
    Solver<?, ?> solver = settings.solver();
    double[] sigmas = settings.schedule().sigmas(denoiser, solver.steps(denoiser, settings.steps()));
    List<? extends Record> plan = solver.plan(sigmas, settings);
    int[] positions = walk.positions(plan.size());
    checkWalk(positions, plan.size(), solver);
    Guidance guidance = settings.stepGuidance();
    String graphKey = solver.name() + (settings.clipDenoised() ? "" : "/unclamped")
        + (guidance == null ? "" : "/guided/" + guidance.graphKey());
    List<Tensor> owned = new ArrayList<>();
    Result carried = null;
    try {
      // what every run of the batch is fed
      Map<Operand<?>, Tensor> batch = new LinkedHashMap<>();
      batch.put(seed, own(owned, TInt64.scalarOf(settings.seed())));
      batch.put(first, own(owned, TInt64.scalarOf(firstImage)));
      if (labels != null) {
        batch.put(labels, own(owned, TInt64.vectorOf(classLabels)));
      }
      if (guidance != null) {
        batch.put(condScale, own(owned, TFloat32.scalarOf((float) guidance.condScale())));
      }
      walk.inputs(firstImage, Math.toIntExact(noise.shape()[0]))
          .forEach((p, v) -> batch.put(p, own(owned, Tensors.of(v))));
      StartGraph start = starts.computeIfAbsent(solver.name(), k -> buildStart(solver));
      TFloat32 x0 = own(owned, Tensors.of(scaled(noise, denoiser.startScale(sigmas[0]))));
      Session.Runner init = session.runner().feed(start.x(), x0);
      start.state().forEach(init::fetch);
      carried = init.run();
      List<Tensor> state = values(carried, start.state().size());
      Tensor estimate = null;
      for (int k = 1; k < positions.length; k++) {
        int from = positions[k - 1];
        boolean last = positions[k] == plan.size();
        StepGraph g = positions[k] < from ? null : steps.computeIfAbsent(graphKey + (last ? "/last" : ""),
            key -> buildStep(solver, last, guidance, settings.clipDenoised()));
        List<Tensor> scalars = new ArrayList<>();
        try {
          // every move draws from a stream of its own
          StepRun run = StepRun.of(session, denoiser.network()).feed(index, own(scalars, TInt64.scalarOf(k - 1)));
          batch.forEach(run::feed);
          if (g == null) {
            JumpGraph j = jumpGraph();
            double up = Math.sqrt(sigmas[positions[k]] * sigmas[positions[k]] - sigmas[from] * sigmas[from]);
            run.feed(j.x(), state.get(0)).feed(j.std(), own(scalars, TFloat32.scalarOf((float) up))).fetch(j.out());
          } else {
            feedStep(run, g, sigmas[from], plan.get(from), state, estimate, scalars);
          }
          Result next = run.run();
          carried.close();
          carried = next;
        } finally {
          scalars.forEach(Tensor::close);
        }
        state = values(carried, state.size());
        // a jump leaves the estimate behind with the sample it replaced
        estimate = g != null && g.estimateIn() != null ? carried.get(state.size()) : null;
      }
      Session.Runner out = session.runner().feed(readoutIn, state.get(0));
      batch.forEach(out::feed);
      try (Result images = out.fetch(readout).run()) {
        return Tensors.toArray((TFloat32) images.get(0));
      }
    } finally {
      if (carried != null) {
        carried.close();
      }
      owned.forEach(Tensor::close);
    }
  }

  /** Feeds a step its level, coefficients and what it carries; its scalars go to {@code scalars}, closed after the run. */
  private static void feedStep(StepRun run, StepGraph g, double level, Record c, List<Tensor> state, Tensor estimate,
      List<Tensor> scalars) {
    if (g.level() != null) {
      run.feed(g.level(), own(scalars, TFloat32.scalarOf((float) level)));
    }
    List<Value> coefficients = Records.values(c);
    for (int j = 0; j < coefficients.size(); j++) {
      run.feed(g.coefficients().get(j), own(scalars, TFloat32.scalarOf((float) coefficients.get(j).number())));
    }
    for (int j = 0; j < state.size(); j++) {
      run.feed(g.stateIn().get(j), state.get(j));
    }
    if (g.estimateIn() != null && estimate != null) {
      run.feed(g.estimateIn(), estimate);
    }
    g.out().forEach(run::fetch);
  }

  /** Fails unless the walk goes from level 0 to level {@code steps}, one level down or back up at a time. */
  private static void checkWalk(int[] positions, int steps, Solver<?, ?> solver) {
    boolean ok = positions[0] == 0 && positions[positions.length - 1] == steps;
    boolean jumps = false;
    for (int k = 1; k < positions.length; k++) {
      ok &= positions[k] == positions[k - 1] + 1 || (positions[k] >= 0 && positions[k] < positions[k - 1]);
      jumps |= positions[k] < positions[k - 1];
    }
    if (!ok) {
      throw new IllegalArgumentException("a walk goes from level 0 to level " + steps + ", one level down or back up"
          + " at a time");
    }
    // what else a solver carries belongs to the sample before the jump
    if (jumps && Records.names(solver.state()).size() > 1) {
      throw new IllegalArgumentException("a walk that jumps back up takes a solver that carries x alone, not "
          + solver.name());
    }
  }

  private static <T extends Tensor> T own(List<Tensor> owned, T t) {
    owned.add(t);
    return t;
  }

  private static List<Tensor> values(Result r, int count) {
    List<Tensor> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(r.get(i));
    }
    return out;
  }

  private static FloatArray scaled(FloatArray noise, double scale) {
    float[] data = noise.data().clone();
    for (int i = 0; i < data.length; i++) {
      data[i] *= (float) scale;
    }
    return new FloatArray(noise.shape(), data);
  }

  private <C extends Record, S extends Record> StartGraph buildStart(Solver<C, S> solver) {
    Ops s = tf.withSubScope(solver.name() + "_start");
    Placeholder<TFloat32> x = s.placeholder(TFloat32.class, Placeholder.shape(batchShape));
    S state = solver.start(Value.of(s, x));
    return new StartGraph(x, outputs(s, Records.values(state)));
  }

  private <C extends Record, S extends Record> StepGraph buildStep(Solver<C, S> solver, boolean last, Guidance guidance,
      boolean clamp) {
    Ops s = tf.withSubScope(solver.name() + (clamp ? "" : "_unclamped") + (guidance == null ? "" : "_guided")
        + (last ? "_last" : "_step"));
    Placeholder<TFloat32> level = s.withName("level").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    List<Placeholder<TFloat32>> coefficients = new ArrayList<>();
    List<Value> c = new ArrayList<>();
    for (String name : Records.names(solver.coefficients())) {
      Placeholder<TFloat32> p = s.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      coefficients.add(p);
      c.add(Value.of(s, p));
    }
    List<Placeholder<TFloat32>> stateIn = new ArrayList<>();
    List<Value> state = new ArrayList<>();
    for (String name : Records.names(solver.state())) {
      Placeholder<TFloat32> p = s.withName(name).placeholder(TFloat32.class, Placeholder.shape(batchShape));
      stateIn.add(p);
      state.add(Value.of(s, p));
    }
    Operand<TFloat32> x = stateIn.get(0);
    Operand<TFloat32> estimateIn = denoiser.selfConditioned() && walk.selfConditions()
        ? s.placeholderWithDefault(s.zerosLike(x), batchShape) : null;
    Step step = new Step(s, denoiser, labels, guidance, guidance == null ? null : condScale, clamp, estimateIn, seed,
        index, first, x);
    Value given = state.get(0);
    state.set(0, walk.beforeStep(step, given, Value.of(s, level)));
    // plain sampling changes nothing before a step and never reads its level: it is not fed
    Placeholder<TFloat32> fed = state.get(0) == given ? null : level;
    S next = solver.step(step, Records.of(solver.state(), state), Records.of(solver.coefficients(), c), last);
    List<Value> out = new ArrayList<>(Records.values(next));
    if (estimateIn != null) {
      out.add(Value.of(s, step.estimate()));
    }
    return new StepGraph(fed, coefficients, stateIn, estimateIn, outputs(s, out));
  }

  private JumpGraph jumpGraph() {
    if (jump == null) {
      Ops s = tf.withSubScope("jump");
      Placeholder<TFloat32> x = s.placeholder(TFloat32.class, Placeholder.shape(batchShape));
      Placeholder<TFloat32> std = s.withName("std").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      // the jump draws noise and evaluates nothing
      Step draw = new Step(s, denoiser, null, null, null, true, null, seed, index, first, x);
      jump = new JumpGraph(x, std, Value.of(s, x).plus(draw.noise().times(Value.of(s, std))).operand());
    }
    return jump;
  }

  /** The values as outputs a run can fetch: TensorFlow refuses to fetch a tensor it is fed, so each is an identity. */
  private static List<Operand<TFloat32>> outputs(Ops s, List<Value> values) {
    List<Operand<TFloat32>> out = new ArrayList<>();
    for (Value v : values) {
      out.add(s.identity(v.operand()));
    }
    return out;
  }
}
