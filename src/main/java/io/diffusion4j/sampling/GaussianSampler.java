package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.GaussianDiffusion;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Runs Gaussian diffusion's reverse process from Java: each step is one session call that
 * evaluates the network once, and the running sample stays a native tensor from one call to the
 * next (it is copied to the JVM only at the end, or per step when every step is asked for).
 *
 * <p>All randomness comes from stateless ops seeded with (seed, step), so the same seed gives
 * the same samples in any session or JVM.
 */
public final class GaussianSampler implements DiffusionSampler {
  /** Streams of interpolate's two q-samples (steps use their timestep, the start noise -1). */
  private static final long Q_SAMPLE_STREAM = -2;
  private static final long Q_SAMPLE_STREAM_2 = -3;

  private final GaussianDiffusion diffusion;
  private final Session session;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TInt32> time;
  private final Placeholder<TInt32> timeNext;
  private final Placeholder<TFloat32> eta;
  private final Operand<TFloat32> selfCond;
  private final Placeholder<TInt64> labels;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TInt64> stream;
  private final Operand<TInt64> first;
  private final GaussianSteps.Step ddpm;
  private final GaussianSteps.Step ddim;
  private final NoiseSource noiseSource;
  private final Placeholder<TFloat32> x1;
  private final Placeholder<TFloat32> x2;
  private final Placeholder<TFloat32> lambda;
  private final Operand<TFloat32> mixed;
  private final Carry.Readout readout;

  /**
   * Adds the step graph to the graph that holds {@code diffusion}'s network; {@code session} must
   * run that graph with the weights loaded.
   */
  public GaussianSampler(Ops root, Session session, GaussianDiffusion diffusion) {
    this.diffusion = diffusion;
    this.session = session;
    Ops tf = root.withSubScope("gaussian_sampler");
    long[] perExample = diffusion.sampleShape();
    Shape batchShape = Shape.of(Tensors.batchShape(-1, perExample));
    x = tf.placeholder(TFloat32.class, Placeholder.shape(batchShape));
    time = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    timeNext = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    eta = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    stream = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    first = tf.placeholderWithDefault(tf.constant(0L), Shape.scalar());
    selfCond = diffusion.network().selfCondition()
        ? tf.placeholderWithDefault(tf.zerosLike(x), batchShape)
        : null;
    labels = diffusion.network().numClasses() > 0
        ? tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1))) : null;
    Operand<TInt32> batch = tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    Operand<TInt32> t = tf.fill(batch, time);
    Operand<TFloat32> noise = ImageNoise.like(tf, x, seed, stream, first, perExample);
    ddpm = GaussianSteps.ddpm(tf, diffusion, x, t, selfCond, labels, noise);
    ddim = GaussianSteps.ddim(tf, diffusion, x, t, tf.fill(batch, timeNext), eta, selfCond, labels, noise);

    noiseSource = new NoiseSource(tf, session, perExample);
    x1 = tf.placeholder(TFloat32.class, Placeholder.shape(batchShape));
    x2 = tf.placeholder(TFloat32.class, Placeholder.shape(batchShape));
    lambda = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Operand<TInt32> tq = tf.fill(tf.slice(tf.shape(x1), tf.constant(new int[] {0}), tf.constant(new int[] {1})), time);
    Operand<TFloat32> q1 = diffusion.qSample(tf, diffusion.normalize(tf, x1), tq,
        ImageNoise.like(tf, x1, seed, tf.constant(Q_SAMPLE_STREAM), first, perExample));
    Operand<TFloat32> q2 = diffusion.qSample(tf, diffusion.normalize(tf, x2), tq,
        ImageNoise.like(tf, x1, seed, tf.constant(Q_SAMPLE_STREAM_2), first, perExample));
    mixed = tf.math.add(tf.math.mul(tf.math.sub(tf.constant(1f), lambda), q1), tf.math.mul(lambda, q2));
    readout = new Carry.Readout(session, x, images(tf, diffusion, x));
  }

  /** A finished sample in data space (the x0 clamping of each step already bounds it). */
  static Operand<TFloat32> images(Ops tf, GaussianDiffusion diffusion, Operand<TFloat32> x) {
    return diffusion.unnormalize(tf, x);
  }

  @Override
  public GaussianDiffusion diffusion() {
    return diffusion;
  }

  @Override
  public Sampler defaultSampler() {
    return diffusion.config().isDdimSampling() ? Sampler.DDIM : Sampler.DDPM;
  }

  @Override
  public int defaultSteps() {
    return diffusion.config().samplingTimesteps();
  }

  @Override
  public double defaultEta() {
    return diffusion.config().ddimSamplingEta();
  }

  @Override
  public FloatArray initialNoise(long first, int num, long seed) {
    return noiseSource.draw(first, num, seed);
  }

  @Override
  public FloatArray sample(Sampler sampler, FloatArray noise, long seed, long first, int steps, double eta,
      long[] classLabels, List<FloatArray> everyStep) {
    Samplers.checkBatch(diffusion, "noise", noise, classLabels);
    try (TInt64 l = classLabels == null ? null : TInt64.vectorOf(classLabels); TInt64 f = TInt64.scalarOf(first)) {
      return switch (sampler) {
        case DDPM -> ddpmLoop(noise, seed, f, diffusion.config().timesteps() - 1, l, everyStep, null);
        case DDIM -> ddimLoop(noise, seed, f, diffusion.schedule().ddimTimePairs(steps), eta, l, everyStep);
        default -> throw new IllegalArgumentException("sampler " + sampler.cliName() + " is for ElucidatedDiffusion;"
            + " Gaussian diffusion samples with ddpm or ddim");
      };
    }
  }

  /**
   * Noises two batches to timestep t, mixes them (1 - lam) : lam and denoises the mix with DDPM
   * from t down to 0 (the reference starts one step lower, at t - 1, leaving the mix slightly
   * noisier than the step assumes; here the first step is at t).
   */
  public FloatArray interpolate(FloatArray a, FloatArray b, int t, double lam, long seed) {
    Samplers.checkBatch(diffusion, "x1", a, null);
    Samplers.checkBatch(diffusion, "x2", b, null);
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalArgumentException("x1 " + Arrays.toString(a.shape()) + " and x2 "
          + Arrays.toString(b.shape()) + " must have the same shape");
    }
    int timesteps = diffusion.config().timesteps();
    if (t < 0 || t >= timesteps) {
      throw new IllegalArgumentException("t = " + t + " must be in [0, " + (timesteps - 1) + "]");
    }
    FloatArray mix;
    try (TFloat32 ta = Tensors.of(a); TFloat32 tb = Tensors.of(b); TInt32 tt = TInt32.scalarOf(t);
        TFloat32 l = TFloat32.scalarOf((float) lam); TInt64 sd = TInt64.scalarOf(seed);
        Result r = session.runner().feed(x1, ta).feed(x2, tb).feed(time, tt).feed(lambda, l)
            .feed(this.seed, sd).fetch(mixed).run()) {
      mix = Tensors.toArray((TFloat32) r.get(0));
    }
    try (TInt64 f = TInt64.scalarOf(0L)) {
      return ddpmLoop(mix, seed, f, t, null, null, null);
    }
  }

  /** DDPM from {@code start} down to 0; {@code onStep} (tests) sees the step index. */
  FloatArray ddpmLoop(FloatArray start, long seed, TInt64 first, int fromTime, TInt64 classLabels,
      List<FloatArray> everyStep, IntConsumer onStep) {
    try (Carry carry = new Carry(Tensors.of(start), readout); TInt64 sd = TInt64.scalarOf(seed)) {
      carry.record(everyStep);
      for (int t = fromTime; t >= 0; t--) {
        try (TInt32 tt = TInt32.scalarOf(t); TInt64 st = TInt64.scalarOf(t)) {
          StepRun run = feed(step(), carry, classLabels).feed(time, tt).feed(this.seed, sd).feed(stream, st)
              .feed(this.first, first);
          carry.advance(run.fetch(ddpm.next()).fetch(ddpm.xStart()).run());
        }
        carry.record(everyStep);
        if (onStep != null) {
          onStep.accept(t);
        }
      }
      return carry.images();
    }
  }

  FloatArray ddimLoop(FloatArray start, long seed, TInt64 first, int[][] pairs, double etaValue,
      TInt64 classLabels, List<FloatArray> everyStep) {
    try (Carry carry = new Carry(Tensors.of(start), readout); TFloat32 e = TFloat32.scalarOf((float) etaValue);
        TInt64 sd = TInt64.scalarOf(seed)) {
      carry.record(everyStep);
      for (int[] pair : pairs) {
        try (TInt32 tt = TInt32.scalarOf(pair[0]); TInt32 tn = TInt32.scalarOf(Math.max(pair[1], 0));
            TInt64 st = TInt64.scalarOf(pair[0])) {
          StepRun run = feed(step(), carry, classLabels).feed(time, tt).feed(timeNext, tn)
              .feed(eta, e).feed(this.seed, sd).feed(stream, st).feed(this.first, first);
          // the last step (t_next = -1) returns the x0 estimate itself
          carry.advance(pair[1] < 0 ? run.fetch(ddim.xStart()).run()
              : run.fetch(ddim.next()).fetch(ddim.xStart()).run());
        }
        carry.record(everyStep);
      }
      return carry.images();
    }
  }

  private StepRun step() {
    return StepRun.of(session, diffusion.network());
  }

  /** Feeds the running sample, the last x0 estimate as self-conditioning, and the labels. */
  private StepRun feed(StepRun runner, Carry carry, TInt64 classLabels) {
    return Samplers.condition(runner.feed(x, carry.get(0)), selfCond, carry.started() ? carry.get(1) : null,
        labels, classLabels, diffusion);
  }
}
