package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Diffusion;
import io.diffusion4j.diffusion.ElucidatedDiffusion;
import io.diffusion4j.diffusion.GaussianDiffusion;
import io.diffusion4j.models.Network;
import io.diffusion4j.models.NetworkConfig;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * A whole sampling run as one TensorFlow while loop, for graphs that sample on their own (the
 * SavedModel's {@code serving_default}). It takes the same steps, noise streams and per-step
 * scalars as the session-loop samplers, so both give the same images for the same seed.
 *
 * <p>A loop body cannot read the outer graph's tensors, so the weights enter as loop variables
 * and the body rebuilds the network on them ({@link Parameters#bound}). The per-step scalars come
 * from the session samplers' own Java schedule code, tabulated for every step count up to
 * {@link #MAX_STEPS} and sliced by the {@code steps} input in the graph.
 */
public final class LoopSampler {
  /** The largest step count tabulated (or the config's default, when that is larger). */
  public static final int MAX_STEPS = 256;

  private final Diffusion diffusion;
  private final NetworkConfig networkConfig;
  private final Sampler sampler;
  private final int maxSteps;
  /** Every step count's per-step scalars, one row per step, step counts one after the other. */
  private final float[][] table;
  /** Where step count k's rows start in the table. */
  private final int[] offsets;

  /**
   * @param session the session sampler this loop mirrors (its diffusion, default steps and eta)
   * @param sampler one of the diffusion's samplers
   * @param networkConfig the config of the diffusion's network, to rebuild it in the loop body
   */
  public LoopSampler(DiffusionSampler session, Sampler sampler, NetworkConfig networkConfig) {
    this.diffusion = session.diffusion();
    this.networkConfig = networkConfig;
    this.sampler = sampler;
    boolean gaussian = diffusion instanceof GaussianDiffusion;
    if (gaussian != (sampler == Sampler.DDPM || sampler == Sampler.DDIM)) {
      throw new IllegalArgumentException("sampler " + sampler.cliName() + " does not sample "
          + diffusion.config().type() + ": " + (gaussian ? "ddpm or ddim" : "heun, euler or dpmpp") + " do");
    }
    this.maxSteps = switch (sampler) {
      case DDPM -> gaussian().config().timesteps();
      case DDIM -> Math.max(Math.min(MAX_STEPS, gaussian().config().timesteps()), session.defaultSteps());
      default -> Math.max(MAX_STEPS, session.defaultSteps());
    };
    List<float[]> rows = new ArrayList<>();
    offsets = new int[maxSteps + 2];
    for (int k = 1; k <= maxSteps; k++) {
      offsets[k] = rows.size();
      rows.addAll(rows(k));
    }
    offsets[maxSteps + 1] = rows.size();
    table = rows.toArray(new float[0][]);
  }

  public Sampler sampler() {
    return sampler;
  }

  /** Whether {@link #sample} takes a step count (DDPM always runs every timestep). */
  public boolean takesSteps() {
    return sampler != Sampler.DDPM;
  }

  public int maxSteps() {
    return maxSteps;
  }

  /**
   * Adds the loop to {@code network}'s graph.
   *
   * @param network the outer network, whose parameters the loop reads once
   * @param seed int64 scalar; the same seed as {@link DiffusionSampler#initialNoise} and
   *     {@link DiffusionSampler#sample} take
   * @param num int32 scalar, the number of samples
   * @param steps int32 scalar in [1, maxSteps()], or null when {@link #takesSteps()} is false
   * @param classLabels int64 [num] for class-conditional networks, else null
   * @return the samples in data space, channels-last
   */
  public Operand<TFloat32> sample(Ops tf, Network network, Operand<TInt64> seed, Operand<TInt32> num,
      Operand<TInt32> steps, Operand<TInt64> classLabels) {
    Ops outer = tf.withSubScope("loop_sampler");
    Operand<TInt32> k = takesSteps() ? checkedSteps(outer, steps) : outer.constant(maxSteps);
    // rows offsets[k] .. offsets[k + 1] of the table are the k-step run's
    Operand<TInt32> bounds = outer.slice(outer.constant(offsets), outer.reshape(k, outer.constant(new int[] {1})),
        outer.constant(new int[] {2}));
    Operand<TInt32> offset = outer.gather(bounds, outer.constant(0), outer.constant(0));
    Operand<TInt32> count = outer.math.sub(outer.gather(bounds, outer.constant(1), outer.constant(0)), offset);
    Operand<TFloat32> rows = outer.slice(outer.constant(table), outer.stack(List.of(offset, outer.constant(0))),
        outer.stack(List.of(count, outer.constant(-1))));
    long[] perExample = diffusion.sampleShape();
    List<Operand<TInt32>> shape = new ArrayList<>();
    shape.add(outer.reshape(num, outer.constant(new int[] {1})));
    shape.add(outer.constant(java.util.Arrays.stream(perExample).mapToInt(Math::toIntExact).toArray()));
    Operand<TFloat32> x = ImageNoise.draw(outer, seed, outer.constant(ImageNoise.START), outer.constant(0L),
        outer.concat(shape, outer.constant(0)), perExample);
    if (diffusion instanceof ElucidatedDiffusion e) {
      x = outer.math.mul(x, outer.constant((float) e.sampleSchedule(1)[0]));
    }
    // Heun and Euler take their last step (to sigma 0, without correction) after the loop
    boolean lastApart = sampler == Sampler.HEUN || sampler == Sampler.EULER;
    Operand<TInt32> loopSteps = lastApart ? outer.math.sub(k, outer.constant(1)) : k;

    List<Operand<?>> vars = new ArrayList<>(List.of(outer.constant(0), loopSteps, x, outer.zerosLike(x), seed, rows));
    if (classLabels != null) {
      vars.add(classLabels);
    }
    List<Parameters.Param> params = network.parameters().all();
    Map<String, Integer> slot = new HashMap<>();
    for (Parameters.Param p : params) {
      slot.put(p.name(), vars.size());
      vars.add(outer.identity(p.value()));
    }
    // the loop's inputs and outputs come without static shapes, which the network checks
    Shape batch = Shape.of(Tensors.batchShape(-1, perExample));
    Output<?>[] in = vars.stream().map(Operand::asOutput).toArray(Output<?>[]::new);
    Output<?>[] out = ((Graph) outer.scope().env()).whileLoop(in, (g, ins, cond) -> {
      Ops c = Ops.create(g);
      cond[0] = c.math.less(cast(ins[0], TInt32.class), cast(ins[1], TInt32.class)).asOutput();
    }, (g, ins, next) -> {
      Ops b = Ops.create(g);
      Network net = networkConfig.create(Parameters.bound(b, name -> cast(ins[slot.get(name)], TFloat32.class)));
      Operand<TInt32> i = cast(ins[0], TInt32.class);
      Operand<TFloat32> row = b.gather(cast(ins[5], TFloat32.class), i, b.constant(0));
      List<Operand<TFloat32>> step = step(b, diffusion.config().create(net), i,
          b.ensureShape(cast(ins[2], TFloat32.class), batch), b.ensureShape(cast(ins[3], TFloat32.class), batch),
          cast(ins[4], TInt64.class), row,
          classLabels != null ? cast(ins[6], TInt64.class) : null, false);
      System.arraycopy(ins, 0, next, 0, ins.length);
      next[0] = b.math.add(i, b.constant(1)).asOutput();
      next[2] = step.get(0).asOutput();
      next[3] = step.get(1).asOutput();
    }, "loop_sampler");
    Operand<TFloat32> result = outer.ensureShape(cast(out[2], TFloat32.class), batch);
    if (lastApart) {
      Operand<TFloat32> lastRow = outer.gather(rows, loopSteps, outer.constant(0));
      result = step(outer, diffusion, loopSteps, result, outer.ensureShape(cast(out[3], TFloat32.class), batch), seed,
          lastRow, classLabels, true).get(0);
    }
    return diffusion instanceof ElucidatedDiffusion e ? EdmSampler.images(outer, e, result)
        : GaussianSampler.images(outer, gaussian(), result);
  }

  /** Steps, checked to lie in [1, maxSteps] when the graph runs. */
  private Operand<TInt32> checkedSteps(Ops tf, Operand<TInt32> steps) {
    Operand<org.tensorflow.types.TBool> ok = tf.math.logicalAnd(tf.math.greaterEqual(steps, tf.constant(1)),
        tf.math.lessEqual(steps, tf.constant(maxSteps)));
    var check = tf.assertThat(ok, List.of(tf.constant("steps must be in [1, " + maxSteps + "], got"), steps));
    return tf.withControlDependencies(List.of(check)).identity(steps);
  }

  /**
   * Step {@code i}: one row's scalars applied to the running sample {@code x} and the previous
   * estimate {@code previous} (self-conditioning, DPM-Solver's history), as the session samplers
   * apply them. Returns the new sample and the new estimate.
   *
   * @param last Heun's last step, which has no correction
   */
  private List<Operand<TFloat32>> step(Ops tf, Diffusion d, Operand<TInt32> i, Operand<TFloat32> x,
      Operand<TFloat32> previous, Operand<TInt64> seed, Operand<TFloat32> row, Operand<TInt64> labels,
      boolean last) {
    Operand<TFloat32> selfCond = d.network().selfCondition() ? previous : null;
    Operand<TInt32> batch = tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    switch (sampler) {
      case DDPM, DDIM -> {
        GaussianDiffusion g = (GaussianDiffusion) d;
        Operand<TInt32> t = tf.dtypes.cast(col(tf, row, 0), TInt32.class);
        Operand<TFloat32> noise = noise(tf, x, seed, t);
        if (sampler == Sampler.DDPM) {
          GaussianSteps.Step s = GaussianSteps.ddpm(tf, g, x, tf.fill(batch, t), selfCond, labels, noise);
          return List.of(s.next(), s.xStart());
        }
        Operand<TInt32> tNext = tf.dtypes.cast(col(tf, row, 1), TInt32.class);
        GaussianSteps.Step s = GaussianSteps.ddim(tf, g, x, tf.fill(batch, t),
            tf.fill(batch, tf.math.maximum(tNext, tf.constant(0))),
            tf.constant((float) g.config().ddimSamplingEta()), selfCond, labels, noise);
        // the last step (t_next = -1) returns the x0 estimate itself
        return List.of(tf.select(tf.math.less(tNext, tf.constant(0)), s.xStart(), s.next()), s.xStart());
      }
      case HEUN, EULER -> {
        ElucidatedDiffusion e = (ElucidatedDiffusion) d;
        Operand<TFloat32> hat = col(tf, row, 0);
        Operand<TFloat32> next = col(tf, row, 1);
        Operand<TFloat32> noise = noise(tf, x, seed, i);
        EdmSteps.Euler euler = EdmSteps.eulerWithChurn(tf, e, x, hat, next, col(tf, row, 2), noise, selfCond, labels);
        if (sampler == Sampler.EULER || last) {
          return List.of(euler.next(), euler.denoised());
        }
        EdmSteps.Step heun = EdmSteps.heunCorrection(tf, e, euler.next(), euler.xHat(), euler.slope(), hat, next,
            d.network().selfCondition() ? euler.denoised() : null, labels);
        return List.of(heun.next(), heun.denoised());
      }
      case DPMPP -> {
        EdmSteps.Step s = EdmSteps.dpmpp2m(tf, (ElucidatedDiffusion) d, x, col(tf, row, 0), previous,
            col(tf, row, 1), col(tf, row, 2), col(tf, row, 3), col(tf, row, 4), selfCond, labels);
        return List.of(s.next(), s.denoised());
      }
      default -> throw new IllegalStateException("unreachable: " + sampler);
    }
  }

  /** The per-step scalars of a run of {@code k} steps, as the session samplers compute them. */
  private List<float[]> rows(int k) {
    List<float[]> rows = new ArrayList<>();
    switch (sampler) {
      case DDPM -> {
        if (k == maxSteps) {
          for (int t = k - 1; t >= 0; t--) {
            rows.add(new float[] {t});
          }
        }
      }
      case DDIM -> {
        for (int[] pair : gaussian().schedule().ddimTimePairs(k)) {
          rows.add(new float[] {pair[0], pair[1]});
        }
      }
      case HEUN, EULER -> {
        ElucidatedDiffusion e = (ElucidatedDiffusion) diffusion;
        for (EdmSteps.Churn c : EdmSteps.churnSteps(e, e.sampleSchedule(k))) {
          rows.add(new float[] {c.sigmaHat(), c.sigmaNext(), c.churnStd()});
        }
      }
      case DPMPP -> {
        for (EdmSteps.Dpmpp c : EdmSteps.dpmppSteps(((ElucidatedDiffusion) diffusion).sampleSchedule(k))) {
          rows.add(new float[] {c.sigma(), c.a(), c.b(), c.wNew(), c.wOld()});
        }
      }
    }
    return rows;
  }

  private GaussianDiffusion gaussian() {
    return (GaussianDiffusion) diffusion;
  }

  private static Operand<TFloat32> col(Ops tf, Operand<TFloat32> row, int index) {
    return tf.ensureShape(tf.gather(row, tf.constant(index), tf.constant(0)), Shape.scalar());
  }

  /** The step's noise in {@code stream}, as the session samplers draw it; the run's images start at index 0. */
  private Operand<TFloat32> noise(Ops tf, Operand<TFloat32> x, Operand<TInt64> seed, Operand<TInt32> stream) {
    return ImageNoise.like(tf, x, seed, tf.dtypes.cast(stream, TInt64.class), tf.constant(0L), diffusion.sampleShape());
  }

  @SuppressWarnings("unchecked")
  private static <T extends TType> Operand<T> cast(Output<?> output, Class<T> type) {
    return (Operand<T>) output;
  }
}
