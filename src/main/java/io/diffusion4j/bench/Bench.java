package io.diffusion4j.bench;

import com.google.gson.JsonObject;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.runtime.Tracing;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import io.diffusion4j.train.Ema;
import io.diffusion4j.train.TrainStep;
import io.diffusion4j.train.TrainerOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Times a {@link BenchCase} after warm-up: each repeat is one training step, one evaluation or one
 * whole sampling run, as a user's program would run it (inputs made once, outputs left native
 * unless the API returns them), and reports the median, min and max with the FLOPs of one run.
 */
public final class Bench {
  private static final long SEED = 1;

  /** What one case measured. */
  public record Measurement(BenchCase benchCase, Execution execution, long params, int threads, int repeats,
      double[] millis, double flops, Solver<?, ?> sampler, int evaluations, int steps) {

    public double median() {
      double[] s = millis.clone();
      Arrays.sort(s);
      return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * One JSON object per case, the line {@code bench} prints; {@code peakGflops}, when positive,
     * adds {@code of_peak}: the share of the measured MatMul speed (in this case's precision) it reached.
     */
    public JsonObject toJson(double peakGflops) {
      JsonObject j = new JsonObject();
      j.addProperty("case", benchCase.name());
      j.addProperty("kind", benchCase.kind().jsonName());
      j.addProperty("batch", benchCase.batch());
      j.addProperty("execution", execution.describe());
      if (benchCase.kind() == BenchCase.Kind.SAMPLE) {
        j.addProperty("sampler", sampler.name());
        j.addProperty("steps", steps);
        j.addProperty("evaluations", evaluations);
      }
      j.addProperty("params", params);
      j.addProperty("threads", threads);
      j.addProperty("repeats", repeats);
      j.addProperty("median_ms", round(median()));
      j.addProperty("min_ms", round(Arrays.stream(millis).min().orElse(0)));
      j.addProperty("max_ms", round(Arrays.stream(millis).max().orElse(0)));
      j.addProperty("gflop", Math.round(flops / 1e5) / 1e4);
      j.addProperty("gflops", round(flops / 1e6 / median()));
      if (peakGflops > 0) {
        j.addProperty("of_peak", Math.round(flops / 1e6 / median() / peakGflops * 1000) / 1000.0);
      }
      return j;
    }

    private static double round(double v) {
      return Math.round(v * 100) / 100.0;
    }
  }

  private Bench() {}

  /** Runs {@code c} on the CPU in float32: {@code warmup} untimed runs, then {@code repeats} timed ones. */
  public static Measurement run(BenchCase c, int warmup, int repeats) {
    return run(c, Execution.CPU, warmup, repeats, null);
  }

  /**
   * Runs {@code c} as {@code execution} says: {@code warmup} untimed runs, then {@code repeats}
   * timed ones; with a {@code profile}, the timed runs are traced into it (tracing slows them).
   */
  public static Measurement run(BenchCase c, Execution execution, int warmup, int repeats, Profile profile) {
    if (warmup < 0 || repeats < 1) {
      throw new IllegalArgumentException("warmup = " + warmup + " must be >= 0 and repeats = " + repeats + " >= 1");
    }
    boolean ema = c.kind() == BenchCase.Kind.TRAIN;
    try (DiffusionModel model = DiffusionModel.create(c.config(), SEED, ema, execution)) {
      Runner runner = switch (c.kind()) {
        case TRAIN -> train(model, c);
        case EVAL -> evaluate(model, c, false);
        case FORWARD_BACKWARD -> evaluate(model, c, true);
        case SAMPLE -> sample(model, c);
      };
      try (runner) {
        for (int i = 0; i < warmup; i++) {
          runner.run(i);
        }
        double[] millis = new double[repeats];
        for (int i = 0; i < repeats; i++) {
          int index = warmup + i;
          long start = System.nanoTime();
          if (profile == null) {
            runner.run(index);
          } else {
            Tracing.collect(profile, () -> runner.run(index));
          }
          millis[i] = (System.nanoTime() - start) / 1e6;
        }
        if (profile != null) {
          profile.addRuns(millis);
        }
        return new Measurement(c, execution, model.network().parameters().count(), threads(), repeats, millis,
            runner.flops(), runner.sampler(), runner.evaluations(), runner.steps());
      }
    }
  }

  /** The threads TensorFlow's kernels use: its intra-op pool, which defaults to the cores. */
  static int threads() {
    String env = System.getenv("TF_NUM_INTRAOP_THREADS");
    return env != null && env.matches("\\d+") && Integer.parseInt(env) > 0 ? Integer.parseInt(env)
        : Runtime.getRuntime().availableProcessors();
  }

  /** One timed unit of work, with its cost. */
  private interface Runner extends AutoCloseable {
    void run(int index);

    double flops();

    default Solver<?, ?> sampler() {
      return null;
    }

    default int evaluations() {
      return 1;
    }

    default int steps() {
      return 0;
    }

    @Override
    default void close() {}
  }

  private static Runner train(DiffusionModel model, BenchCase c) {
    TrainerOptions defaults = TrainerOptions.builder().build();
    TrainStep step = new TrainStep(model, defaults.stepOptions());
    Ema ema = new Ema(model.ops(), model.network().parameters(), model.emaNetwork().orElseThrow().parameters(),
        defaults.emaDecay(), defaults.emaSigmaRel(), defaults.emaUpdateEvery(), step.applied());
    FloatArray batch = uniform(Tensors.batchShape(c.batch(), c.config().exampleShape()));
    double flops = FlopCount.of(c.batch(), step.updateOp());
    return new Runner() {
      @Override
      public void run(int index) {
        step.run(batch, SEED, index, defaults.trainLr(), false);
        ema.step(model.session(), index + 1);
      }

      @Override
      public double flops() {
        return flops;
      }
    };
  }

  /** A network evaluation at the case's batch size, whose static shapes let FlopCount count it. */
  private record Evaluation(Placeholder<TFloat32> x, Placeholder<TFloat32> time, Operand<TFloat32> out) {
    static Evaluation build(DiffusionModel model, BenchCase c, Forward fwd) {
      Ops tf = model.ops().withSubScope("bench");
      Network net = model.network();
      long[] shape = Tensors.batchShape(c.batch(), c.config().exampleShape());
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
      Placeholder<TFloat32> time = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(c.batch())));
      Operand<TInt64> labels = net.numClasses() > 0 ? tf.constant(new long[c.batch()]) : null;
      return new Evaluation(x, time, net.apply(tf, x, time, null, labels, fwd));
    }
  }

  /** One network evaluation, or one evaluation and its gradients, on inputs fed once per run. */
  private static Runner evaluate(DiffusionModel model, BenchCase c, boolean backward) {
    Ops tf = model.ops().withSubScope("bench");
    Network net = model.network();
    Forward fwd = backward ? Forward.training(tf.constant(new long[] {SEED, 0})) : Forward.inference();
    Evaluation e = Evaluation.build(model, c, fwd);
    Placeholder<TFloat32> x = e.x();
    Placeholder<TFloat32> time = e.time();
    long[] shape = x.shape().asArray();
    // fetched outputs stay native: closing the Result frees them without a copy to the JVM
    List<Operand<?>> fetches = new ArrayList<>();
    if (backward) {
      Operand<TFloat32> loss = tf.math.mean(tf.math.square(tf.math.sub(e.out(), x)),
          tf.constant(allAxes(shape.length)));
      List<Operand<TFloat32>> vars = new ArrayList<>();
      net.parameters().trainable().forEach(p -> vars.add(p.variable()));
      fetches.addAll(tf.gradients(loss, vars).dy());
    } else {
      fetches.add(e.out());
    }
    double flops = FlopCount.of(c.batch(), fetches.toArray(Operand<?>[]::new));
    float[] times = new float[c.batch()];
    Arrays.fill(times, net.timeInput() == Network.TimeInput.DISCRETE ? 500 : 0.25f);
    TFloat32 tx = Tensors.of(uniform(shape));
    TFloat32 tt = TFloat32.vectorOf(times);
    Session session = model.session();
    return new Runner() {
      @Override
      public void run(int index) {
        Session.Runner r = session.runner().feed(x, tx).feed(time, tt);
        fetches.forEach(r::fetch);
        Tracing.run(r).close();
      }

      @Override
      public double flops() {
        return flops;
      }

      @Override
      public void close() {
        tx.close();
        tt.close();
      }
    };
  }

  private static Runner sample(DiffusionModel model, BenchCase c) {
    DiffusionSampler sampler = model.sampler();
    Settings defaults = sampler.defaults(SEED);
    Settings settings = Settings.of(sampler.denoiser(), c.sampler() != null ? c.sampler() : defaults.solver(),
        c.steps() > 0 ? c.steps() : null, null, null, null, SEED);
    Solver<?, ?> kind = settings.solver();
    int steps = settings.schedule().sigmas(sampler.denoiser(), kind.steps(sampler.denoiser(), settings.steps())).length - 1;
    int evaluations = kind.evaluations(steps);
    FloatArray noise = sampler.initialNoise(c.batch(), SEED);
    // the cost of one evaluation, counted on an evaluation added beside the sampler, never run
    double perEvaluation = FlopCount.of(c.batch(), Evaluation.build(model, c, Forward.inference()).out());
    long[] labels = model.network().numClasses() > 0 ? new long[c.batch()] : null;
    return new Runner() {
      @Override
      public void run(int index) {
        sampler.sample(settings.withSeed(SEED + index), noise, labels);
      }

      @Override
      public double flops() {
        return perEvaluation * evaluations;
      }

      @Override
      public Solver<?, ?> sampler() {
        return kind;
      }

      @Override
      public int evaluations() {
        return evaluations;
      }

      @Override
      public int steps() {
        return steps;
      }
    };
  }

  private static FloatArray uniform(long[] shape) {
    SplittableRandom r = new SplittableRandom(SEED);
    float[] v = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextDouble();
    }
    return new FloatArray(shape, v);
  }

  private static int[] allAxes(int rank) {
    int[] axes = new int[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return axes;
  }
}
