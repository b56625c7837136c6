package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.ElucidatedDiffusion;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Runs ElucidatedDiffusion's samplers from Java over the sigma schedule of Eq. 5: Heun with churn
 * (the reference's {@code sample}), Euler with churn, and DPM-Solver++(2M) (the reference's
 * {@code sample_using_dpmpp}). Every network evaluation is one session run and the running sample
 * stays native; the carried outputs are always (sample, denoised estimate, ...).
 */
public final class EdmSampler implements DiffusionSampler {
  private final ElucidatedDiffusion diffusion;
  private final Session session;
  private final NoiseSource noiseSource;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TFloat32> sigma;
  private final Placeholder<TFloat32> sigmaHat;
  private final Placeholder<TFloat32> sigmaNext;
  private final Placeholder<TFloat32> churnStd;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TInt64> stream;
  private final Operand<TInt64> first;
  private final Operand<TFloat32> selfCond;
  private final Placeholder<TInt64> labels;
  private final Placeholder<TFloat32> xHat;
  private final Placeholder<TFloat32> slope;
  private final Operand<TFloat32> previous;
  private final Placeholder<TFloat32> a;
  private final Placeholder<TFloat32> b;
  private final Placeholder<TFloat32> wNew;
  private final Placeholder<TFloat32> wOld;
  private final EdmSteps.Euler euler;
  private final EdmSteps.Step heun;
  private final EdmSteps.Step dpmpp;
  private final Operand<TFloat32> scaled;
  private final Carry.Readout readout;

  public EdmSampler(Ops root, Session session, ElucidatedDiffusion diffusion) {
    this.diffusion = diffusion;
    this.session = session;
    Ops tf = root.withSubScope("edm_sampler");
    long[] perExample = diffusion.sampleShape();
    Shape batchShape = Shape.of(Tensors.batchShape(-1, perExample));
    noiseSource = new NoiseSource(tf, session, perExample);
    x = tf.placeholder(TFloat32.class, Placeholder.shape(batchShape));
    sigma = scalar(tf);
    sigmaHat = scalar(tf);
    sigmaNext = scalar(tf);
    churnStd = scalar(tf);
    seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    stream = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    first = tf.placeholderWithDefault(tf.constant(0L), Shape.scalar());
    selfCond = diffusion.network().selfCondition() ? tf.placeholderWithDefault(tf.zerosLike(x), batchShape) : null;
    labels = diffusion.network().numClasses() > 0 ? tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1))) : null;
    xHat = tf.placeholder(TFloat32.class, Placeholder.shape(batchShape));
    slope = tf.placeholder(TFloat32.class, Placeholder.shape(batchShape));
    previous = tf.placeholderWithDefault(tf.zerosLike(x), batchShape);
    a = scalar(tf);
    b = scalar(tf);
    wNew = scalar(tf);
    wOld = scalar(tf);
    Operand<TFloat32> noise = ImageNoise.like(tf, x, seed, stream, first, perExample);
    euler = EdmSteps.eulerWithChurn(tf, diffusion, x, sigmaHat, sigmaNext, churnStd, noise, selfCond, labels);
    heun = EdmSteps.heunCorrection(tf, diffusion, x, xHat, slope, sigmaHat, sigmaNext, selfCond, labels);
    dpmpp = EdmSteps.dpmpp2m(tf, diffusion, x, sigma, previous, a, b, wNew, wOld, selfCond, labels);
    scaled = tf.math.mul(x, sigma);
    readout = new Carry.Readout(session, x, images(tf, diffusion, x));
  }

  /** A finished sample in data space: clamped to [-1, 1], then unnormalised. */
  static Operand<TFloat32> images(Ops tf, ElucidatedDiffusion diffusion, Operand<TFloat32> x) {
    return diffusion.unnormalize(tf, tf.clipByValue(x, tf.constant(-1f), tf.constant(1f)));
  }

  private static Placeholder<TFloat32> scalar(Ops tf) {
    return tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  @Override
  public ElucidatedDiffusion diffusion() {
    return diffusion;
  }

  @Override
  public Sampler defaultSampler() {
    return Sampler.HEUN;
  }

  @Override
  public int defaultSteps() {
    return diffusion.config().numSampleSteps();
  }

  @Override
  public FloatArray initialNoise(long first, int num, long seed) {
    return noiseSource.draw(first, num, seed);
  }

  @Override
  public FloatArray sample(Sampler sampler, FloatArray noise, long seed, long first, int steps, double eta,
      long[] classLabels, List<FloatArray> everyStep) {
    Samplers.checkBatch(diffusion, "noise", noise, classLabels);
    double[] sigmas = diffusion.sampleSchedule(steps);
    try (TInt64 l = classLabels == null ? null : TInt64.vectorOf(classLabels); Carry carry = start(noise, sigmas[0])) {
      carry.record(everyStep);
      switch (sampler) {
        case HEUN, EULER -> churnLoop(carry, sigmas, sampler == Sampler.HEUN, seed, first, l, everyStep);
        case DPMPP -> dpmppLoop(carry, sigmas, l, everyStep);
        default -> throw new IllegalArgumentException("sampler " + sampler.cliName() + " is for Gaussian diffusion;"
            + " ElucidatedDiffusion samples with heun, dpmpp or euler");
      }
      return carry.images();
    }
  }

  /** The start: sigma_max times the standard-normal noise. */
  private Carry start(FloatArray noise, double sigmaMax) {
    try (TFloat32 n = Tensors.of(noise); TFloat32 s = TFloat32.scalarOf((float) sigmaMax)) {
      Carry carry = new Carry(TFloat32.scalarOf(0), readout);
      carry.advance(session.runner().feed(x, n).feed(sigma, s).fetch(scaled).run());
      return carry;
    }
  }

  /** Algorithm 2 (Heun), or its first-order part alone (Euler), with churn. */
  private void churnLoop(Carry carry, double[] sigmas, boolean correct, long seedValue, long firstImage, TInt64 l,
      List<FloatArray> everyStep) {
    List<EdmSteps.Churn> steps = EdmSteps.churnSteps(diffusion, sigmas);
    for (int i = 0; i < steps.size(); i++) {
      EdmSteps.Churn step = steps.get(i);
      try (TFloat32 th = TFloat32.scalarOf(step.sigmaHat()); TFloat32 tn = TFloat32.scalarOf(step.sigmaNext());
          TFloat32 tc = TFloat32.scalarOf(step.churnStd()); TInt64 sd = TInt64.scalarOf(seedValue);
          TInt64 st = TInt64.scalarOf(i); TInt64 f = TInt64.scalarOf(firstImage)) {
        StepRun run = conditioned(step(), carry, i == 0, l).feed(x, carry.get(0))
            .feed(sigmaHat, th).feed(sigmaNext, tn).feed(churnStd, tc).feed(seed, sd).feed(stream, st).feed(first, f);
        carry.advance(run.fetch(euler.next()).fetch(euler.denoised()).fetch(euler.xHat()).fetch(euler.slope()).run());
        if (correct && step.sigmaNext() > 0) {
          StepRun fix = conditioned(step(), carry, false, l).feed(x, carry.get(0))
              .feed(xHat, carry.get(2)).feed(slope, carry.get(3)).feed(sigmaHat, th).feed(sigmaNext, tn);
          carry.advance(fix.fetch(heun.next()).fetch(heun.denoised()).run());
        }
      }
      carry.record(everyStep);
    }
  }

  /** DPM-Solver++(2M) (see EdmSteps#dpmppSteps). */
  private void dpmppLoop(Carry carry, double[] sigmas, TInt64 l, List<FloatArray> everyStep) {
    List<EdmSteps.Dpmpp> steps = EdmSteps.dpmppSteps(sigmas);
    for (int i = 0; i < steps.size(); i++) {
      EdmSteps.Dpmpp step = steps.get(i);
      try (TFloat32 ts = TFloat32.scalarOf(step.sigma()); TFloat32 ta = TFloat32.scalarOf(step.a());
          TFloat32 tb = TFloat32.scalarOf(step.b()); TFloat32 tn = TFloat32.scalarOf(step.wNew());
          TFloat32 to = TFloat32.scalarOf(step.wOld())) {
        StepRun run = conditioned(step(), carry, i == 0, l).feed(x, carry.get(0)).feed(sigma, ts)
            .feed(a, ta).feed(b, tb).feed(wNew, tn).feed(wOld, to);
        if (i > 0) {
          run.feed(previous, carry.get(1));
        }
        carry.advance(run.fetch(dpmpp.next()).fetch(dpmpp.denoised()).run());
      }
      carry.record(everyStep);
    }
  }

  private StepRun step() {
    return StepRun.of(session, diffusion.network());
  }

  /** Feeds the labels and, after the first evaluation, the last denoised estimate as self-conditioning. */
  private StepRun conditioned(StepRun runner, Carry carry, boolean first, TInt64 l) {
    return Samplers.condition(runner, selfCond, first ? null : carry.get(1), labels, l, diffusion);
  }
}
