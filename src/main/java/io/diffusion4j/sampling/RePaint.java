package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.sampling.solvers.Ddim;
import io.diffusion4j.sampling.solvers.Ddpm;
import java.util.ArrayList;
import java.util.List;
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
 * Inpainting by RePaint (Lugmayr et al. 2022, Algorithm 1) for any model of the catalogue: DDPM steps through
 * the model's own noise levels, before each of which the known pixels are replaced by the data
 * noised to that level (the forward process), so the model fills in only the unknown ones; every
 * resample_every steps (and at the last step before 0) the sample jumps resample_jump levels back
 * up by forward noising and those steps are taken again, resample_iter times, which lets the
 * filled part harmonise with the known one. After the last step the known pixels are the data's
 * exactly.
 *
 * <p>In the sigma view both moves are simple: the known part at level sigma is x0 + sigma n, and
 * a jump from sigma_b up to sigma_a adds sqrt(sigma_a^2 - sigma_b^2) n.
 */
public final class RePaint implements DiffusionSampler {

  /** The reference's options with its sample() defaults. */
  public record Options(int resampleIter, int resampleJump, int resampleEvery) {
    public static final Options DEFAULT = new Options(10, 10, 50);

    public Options {
      Check.atLeast("resample_iter", resampleIter, 0);
      Check.atLeast("resample_jump", resampleJump, 1);
      Check.atLeast("resample_every", resampleEvery, 1);
    }
  }

  /** The known images and mask of images {@code first} .. {@code first + n - 1} of the run. */
  public interface Known {
    /** Data in [0, 1], channels-last. */
    FloatArray images(long first, int n);

    /** 1 where a pixel is kept, 0 where it is filled, of the images' shape. */
    FloatArray mask(long first, int n);
  }

  private static final Ddpm DDPM = new Ddpm();

  private final Session session;
  private final DiffusionSampler plain;
  private final Denoiser denoiser;
  private final Known known;
  private final Options options;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TFloat32> data;
  private final Placeholder<TFloat32> mask;
  /** The DDPM step's coefficients, fed each step: sigma first. */
  private final List<Placeholder<TFloat32>> coefficients = new ArrayList<>();
  private final Placeholder<TFloat32> sigma;
  private final Placeholder<TFloat32> jumpStd;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TInt64> index;
  private final Placeholder<TInt64> first;
  private final Placeholder<TInt64> labels;
  private final Placeholder<TFloat32> condScale;
  private final Ops tf;
  private final Operand<TFloat32> jumped;
  private final Operand<TFloat32> finished;
  /** The step graph of each guidance setting, built when first used. */
  private final java.util.Map<String, Operand<TFloat32>> stepped = new java.util.HashMap<>();

  /**
   * @param plain the model's sampler, whose start noise this one shares
   */
  public RePaint(Ops root, Session session, DiffusionSampler plain, Known known, Options options) {
    Denoiser d = plain.denoiser();
    this.tf = root.withSubScope("repaint");
    this.session = session;
    this.plain = plain;
    this.denoiser = d;
    this.known = known;
    this.options = options;
    Shape batch = Shape.of(Tensors.batchShape(-1, d.sampleShape()));
    x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(batch));
    data = tf.withName("data").placeholder(TFloat32.class, Placeholder.shape(batch));
    mask = tf.withName("mask").placeholder(TFloat32.class, Placeholder.shape(batch));
    for (String name : Records.names(Ddpm.Coefficients.class)) {
      coefficients.add(scalar(name));
    }
    sigma = coefficients.get(0);
    jumpStd = scalar("jump_std");
    seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    index = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    first = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    labels = d.numClasses() > 0 ? tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1))) : null;
    condScale = scalar("cond_scale");
    // the jump draws noise and evaluates nothing
    Step jump = step(null, true);
    jumped = Value.of(tf, x).plus(jump.noise().times(Value.of(tf, jumpStd))).operand();
    // the kept pixels in data space as given, not through the round trip to the model's space
    finished = tf.math.add(tf.math.mul(mask, data), tf.math.mul(tf.math.sub(tf.constant(1f), mask), d.images(tf, x)));
  }

  private Placeholder<TFloat32> scalar(String name) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  private Step step(Guidance guidance, boolean clamp) {
    return new Step(tf, denoiser, labels, guidance, guidance == null ? null : condScale, clamp, null, seed, index,
        first, x);
  }

  /** The step graph: the known part noised to sigma put in, then a DDPM step. */
  private Operand<TFloat32> steppedFor(Guidance guidance, boolean clamp) {
    return stepped.computeIfAbsent((clamp ? "" : "unclamped/") + (guidance == null ? "" : guidance.graphKey()), k -> {
      Step step = step(guidance, clamp);
      Value knownPart = Value.of(tf, denoiser.normalize(tf, data)).plus(step.noise().times(Value.of(tf, sigma)));
      Value merged = Value.of(tf, mask).times(knownPart)
          .plus(Value.of(tf, tf.math.sub(tf.constant(1f), mask)).times(Value.of(tf, x)));
      Ddpm.Coefficients c = Records.of(Ddpm.Coefficients.class,
          coefficients.stream().map(p -> Value.of(tf, p)).toList());
      return DDPM.step(step, new Ddim.State(merged), c, false).x().operand();
    });
  }

  @Override
  public Denoiser denoiser() {
    return denoiser;
  }

  @Override
  public FloatArray initialNoise(long firstImage, int num, long seedValue) {
    return plain.initialNoise(firstImage, num, seedValue);
  }

  @Override
  public FloatArray sample(Settings settings, FloatArray noise, long firstImage, long[] classLabels) {
    SampleInputs.checkBatch("noise", noise.shape(), denoiser.sampleShape());
    SampleInputs.checkLabels("class labels", classLabels, denoiser.numClasses(), noise.shape()[0], false);
    int n = Math.toIntExact(noise.shape()[0]);
    Guidance guidance = settings.stepGuidance();
    Operand<TFloat32> stepOut = steppedFor(guidance, settings.clipDenoised());
    double[] sigmas = Schedule.OWN.sigmas(denoiser, DDPM.steps(denoiser, settings.steps()));
    List<Ddpm.Coefficients> plan = DDPM.plan(sigmas, new Settings(DDPM, sigmas.length - 1, Schedule.OWN, 1,
        settings.sNoise(), Settings.Churn.NONE, settings.clipDenoised(), null, settings.seed()));
    List<Tensor> owned = new ArrayList<>();
    try {
      TFloat32 data0 = own(owned, Tensors.of(known.images(firstImage, n)));
      TFloat32 mask0 = own(owned, Tensors.of(known.mask(firstImage, n)));
      TInt64 seedT = own(owned, TInt64.scalarOf(settings.seed()));
      TInt64 firstT = own(owned, TInt64.scalarOf(firstImage));
      TInt64 labelT = classLabels == null ? null : own(owned, TInt64.vectorOf(classLabels));
      TFloat32 scaleT = own(owned, TFloat32.scalarOf(guidance == null ? 1f : (float) guidance.condScale()));
      Runs runs = new Runs(data0, mask0, seedT, firstT, labelT, scaleT);
      float[] start = noise.data().clone();
      float scale = (float) denoiser.startScale(sigmas[0]);
      for (int i = 0; i < start.length; i++) {
        start[i] *= scale;
      }
      TFloat32 state = own(owned, Tensors.of(noise.shape(), start));
      try (runs) {
        int last = plan.size() - 1;
        for (int i = 0; i <= last; i++) {
          state = runs.step(stepOut, state, plan.get(i));
          // t counts down to 0 as the reference's timesteps; after its step the sample is at level i + 1
          int t = last - i;
          if (t > 0 && options.resampleIter() > 0 && (t % options.resampleEvery() == 0 || t == 1)) {
            int back = Math.max(i + 1 - options.resampleJump(), 0);
            for (int r = 0; r < options.resampleIter(); r++) {
              double from = sigmas[i + 1];
              double to = sigmas[back];
              state = runs.jump(state, Math.sqrt(to * to - from * from));
              for (int j = back; j <= i; j++) {
                state = runs.step(stepOut, state, plan.get(j));
              }
            }
          }
        }
        try (Result r = session.runner().feed(x, state).feed(data, data0).feed(mask, mask0).fetch(finished).run()) {
          return Tensors.toArray((TFloat32) r.get(0));
        }
      }
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /**
   * The session runs of one batch; every run draws from a stream of its own. Each run's result
   * holds the next state, and is closed once the run after it is done.
   */
  private final class Runs implements AutoCloseable {
    private final TFloat32 data0;
    private final TFloat32 mask0;
    private final TInt64 seedT;
    private final TInt64 firstT;
    private final TInt64 labelT;
    private final TFloat32 scaleT;
    private long count;
    private Result current;

    Runs(TFloat32 data0, TFloat32 mask0, TInt64 seedT, TInt64 firstT, TInt64 labelT, TFloat32 scaleT) {
      this.data0 = data0;
      this.mask0 = mask0;
      this.seedT = seedT;
      this.firstT = firstT;
      this.labelT = labelT;
      this.scaleT = scaleT;
    }

    TFloat32 step(Operand<TFloat32> out, TFloat32 state, Ddpm.Coefficients c) {
      return run(out, state, coefficients, Records.values(c).stream().mapToDouble(Value::number).toArray());
    }

    TFloat32 jump(TFloat32 state, double std) {
      return run(jumped, state, List.of(jumpStd), new double[] {std});
    }

    private TFloat32 run(Operand<TFloat32> out, TFloat32 state, List<Placeholder<TFloat32>> names, double[] values) {
      List<Tensor> scalars = new ArrayList<>();
      try (TInt64 idx = TInt64.scalarOf(count++)) {
        StepRun run = StepRun.of(session, denoiser.network()).feed(x, state).feed(data, data0).feed(mask, mask0)
            .feed(seed, seedT).feed(first, firstT).feed(index, idx).feed(condScale, scaleT);
        if (labels != null) {
          run.feed(labels, labelT);
        }
        for (int k = 0; k < names.size(); k++) {
          TFloat32 v = TFloat32.scalarOf((float) values[k]);
          scalars.add(v);
          run.feed(names.get(k), v);
        }
        Result next = run.fetch(out).run();
        close();
        current = next;
        return (TFloat32) next.get(0);
      } finally {
        scalars.forEach(Tensor::close);
      }
    }

    @Override
    public void close() {
      if (current != null) {
        current.close();
        current = null;
      }
    }
  }

  private static <T extends Tensor> T own(List<Tensor> owned, T t) {
    owned.add(t);
    return t;
  }
}
