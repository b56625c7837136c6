package io.diffusion4j.train;

import io.diffusion4j.diffusion.Diffusion;
import io.diffusion4j.diffusion.XmWrapper;
import io.diffusion4j.distribute.Collectives;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.runtime.Tracing;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * One optimisation step of a diffusion model: the loss (its randomness drawn from a per-step
 * seed), gradients, optional global-norm clipping and Adam. Without accumulation a step is one
 * session run; with k micro-batches it is k runs that add each micro-batch's gradient / k into
 * accumulator variables, then one run that clips and applies them, as the reference's
 * loss / gradient_accumulate_every with backward() per micro-batch does.
 *
 * <p>With a self-conditioned network the graph holds two variants, and a coin seeded by the step
 * picks one, as the reference flips a coin per batch: half the steps first predict x0 and feed
 * it back with gradients stopped.
 */
public final class TrainStep {

  /**
   * How a step optimises: Adam's settings, clipping (0 = none) and micro-batches per step.
   *
   * @param batchSize the examples of one micro-batch on all workers, 0 when unknown (XMWrapper
   *     groups its candidates by it)
   */
  public record Options(Adam.Options adam, double maxGradNorm, int gradientAccumulateEvery, int batchSize) {
    public Options(Adam.Options adam, double maxGradNorm, int gradientAccumulateEvery) {
      this(adam, maxGradNorm, gradientAccumulateEvery, 0);
    }

    public Options {
      if (gradientAccumulateEvery < 1) {
        throw new IllegalArgumentException("gradient_accumulate_every = " + gradientAccumulateEvery + " must be at least 1");
      }
      if (!(maxGradNorm >= 0)) {
        throw new IllegalArgumentException("max_grad_norm = " + maxGradNorm + " must be >= 0 (0 turns clipping off)");
      }
    }
  }

  private final DiffusionModel model;
  private final int accumulate;
  private final int batchSize;
  /** The other workers' gradients are averaged in through these; null in a single process. */
  private final Collectives replicas;
  private final Placeholder<TFloat32> images;
  private final Placeholder<TInt64> labels;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TInt32> microIndex;
  private final Placeholder<TFloat32> lr;
  private final Adam adam;
  /** Present in float16 training. */
  private final LossScale lossScale;
  private final List<Variable<TFloat32>> accumulators = new ArrayList<>();
  /** With accumulation, the step's loss, summed over its micro-batches as the gradients are. */
  private final Variable<TFloat32> lossAccumulator;
  private final Variant plain;
  private final Variant selfConditioned;
  private final Op applyAccumulated;
  private final Operand<TFloat32> accumulatedNorm;
  private final NonFiniteSteps nonFinite;
  /** The counts the accumulated update records. */
  private final NonFiniteSteps.Recorded accumulatedRecord;
  private float lastGradNorm = Float.NaN;
  private NonFiniteSteps.Counts lastCounts = NonFiniteSteps.Counts.NONE;

  /**
   * A loss graph and its ops: with accumulation, {@code first}/{@code next} fill the accumulators;
   * without, {@code record} holds the non-finite counts the update writes.
   */
  private record Variant(Operand<TFloat32> loss, Operand<TFloat32> gradNorm, Op update, Op first, Op next,
      NonFiniteSteps.Recorded record) {}

  public TrainStep(DiffusionModel model, Options options) {
    this(model, options, null);
  }

  /**
   * A step of one worker of a cluster: its batch is its share of the step's, and the gradients
   * (and the logged loss) are averaged over the workers before clipping and Adam, so that every
   * replica applies the same update.
   *
   * @param replicas the cluster's collectives in this model's graph, or null for a single process
   */
  public TrainStep(DiffusionModel model, Options options, Collectives replicas) {
    this.model = model;
    this.accumulate = options.gradientAccumulateEvery();
    this.batchSize = options.batchSize();
    this.replicas = replicas;
    Diffusion diffusion = model.diffusion().orElseThrow(
        () -> new IllegalArgumentException("training needs a config with a \"diffusion\" section"));
    Ops tf = model.ops().withSubScope("train");
    images = tf.placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(Tensors.batchShape(-1, diffusion.sampleShape()))));
    labels = model.network().numClasses() > 0 ? tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1))) : null;
    seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    microIndex = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    lr = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    List<Parameters.Param> params = model.network().parameters().trainable();
    adam = new Adam(tf, params, options.adam());
    lossScale = model.execution().precision().scalesLoss() ? new LossScale(tf) : null;
    nonFinite = new NonFiniteSteps(tf);
    List<Operand<TFloat32>> accumulated = new ArrayList<>();
    if (accumulate > 1) {
      for (Parameters.Param p : params) {
        Variable<TFloat32> a = tf.withName(p.name() + ".grad").variable(Shape.of(p.layout().tfShape()), TFloat32.class);
        accumulators.add(a);
        accumulated.add(a);
      }
      lossAccumulator = tf.withName("loss.acc").variable(Shape.scalar(), TFloat32.class);
      accumulators.add(lossAccumulator);
      // averaged over the workers with the gradients: every replica then takes the same decision
      accumulated.add(lossAccumulator);
    } else {
      lossAccumulator = null;
    }
    plain = variant(tf, diffusion, params, false, options.maxGradNorm());
    selfConditioned = diffusion.network().selfCondition()
        ? variant(tf, diffusion, params, true, options.maxGradNorm()) : null;
    if (accumulate > 1 && replicas != null) {
      accumulated = new ArrayList<>(replicas.mean(accumulated));
    }
    Operand<TFloat32> accumulatedLoss = accumulate > 1 ? accumulated.remove(accumulated.size() - 1) : null;
    accumulatedNorm = accumulate > 1 ? GradientClipping.globalNorm(tf, accumulated) : null;
    accumulatedRecord = accumulate > 1 ? recordStep(tf, accumulatedNorm, accumulatedLoss) : null;
    applyAccumulated = accumulate > 1 ? clipAndApply(tf, accumulated, accumulatedNorm, accumulatedRecord,
        options.maxGradNorm()) : null;
    model.session().run(adam.initializer());
    model.session().run(nonFinite.initializer());
    if (lossScale != null) {
      model.session().run(lossScale.initializer());
    }
    if (!accumulators.isEmpty()) {
      // initialised (though every step overwrites them first) so that a checkpoint or a replica can read them
      List<Op> zero = new ArrayList<>();
      for (Variable<TFloat32> a : accumulators) {
        zero.add(tf.assign(a, tf.zerosLike(a)));
      }
      model.session().run(tf.withControlDependencies(zero).noOp());
    }
    // the reference normalises the stored weights before its first training forward, too
    List<Op> constraints = model.network().weightConstraints(tf);
    if (!constraints.isEmpty()) {
      model.session().run(tf.withControlDependencies(constraints).noOp());
    }
  }

  private Variant variant(Ops tf, Diffusion diffusion, List<Parameters.Param> params,
      boolean selfCond, double maxGradNorm) {
    // this batch is part (micro-batch, worker) of (micro-batches x workers) of the step's
    int workers = replicas == null ? 1 : replicas.workers();
    Operand<TInt32> part = tf.math.add(tf.math.mul(microIndex, tf.constant(workers)),
        tf.constant(replicas == null ? 0 : replicas.index()));
    BatchWindow window = BatchWindow.part(tf, BatchWindow.rows(tf, images), part, accumulate * workers);
    XmWrapper xm = model.config().wrapper();
    Operand<TFloat32> localLoss = xm == null
        ? diffusion.loss(tf, images, labels, seed, window, selfCond, Forward.training(seed, window))
        : xm.loss(diffusion, tf, images, labels, seed, window, batchSize / workers, selfCond);
    List<Operand<TFloat32>> vars = new ArrayList<>();
    params.forEach(p -> vars.add(p.variable()));
    List<Operand<TFloat32>> grads = new ArrayList<>();
    var gradients = lossScale == null ? tf.gradients(localLoss, vars)
        : tf.gradients(localLoss, vars, Gradients.dx(List.of(lossScale.scale())));
    for (var g : gradients.dy()) {
      Operand<TFloat32> grad = g.expect(TFloat32.class);
      grads.add(lossScale == null ? grad : lossScale.unscale(tf, grad));
    }
    Operand<TFloat32> loss = replicas == null ? localLoss : replicas.mean(localLoss);
    if (accumulate == 1) {
      if (replicas != null) {
        grads = replicas.mean(grads);
      }
      Operand<TFloat32> norm = GradientClipping.globalNorm(tf, grads);
      NonFiniteSteps.Recorded record = recordStep(tf, norm, loss);
      return new Variant(loss, norm, clipAndApply(tf, grads, norm, record, maxGradNorm), null, null, record);
    }
    List<Op> first = new ArrayList<>();
    List<Op> next = new ArrayList<>();
    Operand<TFloat32> scale = tf.constant(1f / accumulate);
    List<Operand<TFloat32>> summed = new ArrayList<>(grads);
    summed.add(localLoss);
    for (int i = 0; i < summed.size(); i++) {
      Operand<TFloat32> g = tf.math.mul(summed.get(i), scale);
      first.add(tf.assign(accumulators.get(i), g));
      next.add(tf.assignAdd(accumulators.get(i), g));
    }
    return new Variant(loss, null, null, tf.withControlDependencies(first).noOp(),
        tf.withControlDependencies(next).noOp(), null);
  }

  /**
   * The step's record: applied when its loss and gradients are finite (the global norm is finite
   * exactly when every gradient is, or a square overflowed float32, which is as bad). In float16
   * training gradients that overflow are the loss scale's to skip (it then shrinks), so only a
   * non-finite loss counts there.
   */
  private NonFiniteSteps.Recorded recordStep(Ops tf, Operand<TFloat32> norm, Operand<TFloat32> loss) {
    Operand<TFloat32> healthy = NonFiniteSteps.finite(tf, loss);
    return nonFinite.record(tf, lossScale != null ? healthy : tf.math.mul(healthy, NonFiniteSteps.finite(tf, norm)));
  }

  /**
   * Clipping, Adam, then the network's weight constraints (forced weight normalisation). A step
   * whose record says it is not finite changes nothing; in float16 training a step with
   * non-finite gradients is skipped too, and the loss scale adapts.
   */
  private Op clipAndApply(Ops tf, List<Operand<TFloat32>> grads, Operand<TFloat32> norm,
      NonFiniteSteps.Recorded record, double maxGradNorm) {
    if (maxGradNorm > 0) {
      grads = GradientClipping.clipByGlobalNorm(tf, grads, norm, maxGradNorm);
    }
    Operand<TFloat32> gate = record.applied();
    Operand<TFloat32> finite = lossScale == null ? null : NonFiniteSteps.finite(tf, norm);
    Op update = adam.apply(tf, grads, lr, finite == null ? gate : tf.math.mul(gate, finite));
    if (lossScale != null) {
      // the scale changes only after every gradient computed with it has been read
      update = lossScale.update(tf.withControlDependencies(List.of(update)), finite);
    }
    List<Op> after = new ArrayList<>(model.network().weightConstraints(tf.withControlDependencies(List.of(update))));
    after.add(update);
    after.add(record.store());
    return tf.withControlDependencies(after).noOp();
  }

  /**
   * The op one step runs (without accumulation, in the variant without self-conditioning): what
   * cost accounting counts.
   */
  public Op updateOp() {
    if (accumulate > 1) {
      throw new IllegalStateException("with gradient accumulation a step is several runs");
    }
    return plain.update();
  }

  public DiffusionModel model() {
    return model;
  }

  public int gradientAccumulateEvery() {
    return accumulate;
  }

  /** The optimiser's and accumulators' variables, which a checkpoint must hold besides the weights. */
  public List<Variable<TFloat32>> state() {
    List<Variable<TFloat32>> state = new ArrayList<>(adam.state());
    if (lossScale != null) {
      state.addAll(lossScale.state());
    }
    return state;
  }

  /** 1 when the last step was applied, 0 when it was skipped as not finite: the EMAs move only after an applied step. */
  public Operand<TFloat32> applied() {
    return nonFinite.applied();
  }

  /** The non-finite counts as of the last step that fetched its loss. */
  NonFiniteSteps.Counts nonFiniteCounts() {
    return lastCounts;
  }

  /** The float16 loss scale now (1 when training is not in float16). */
  public float lossScale() {
    if (lossScale == null) {
      return 1;
    }
    try (Result r = model.session().runner().fetch(lossScale.scale()).run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }

  /**
   * Runs one step.
   *
   * @param microBatches {@code gradientAccumulateEvery} batches in [0, 1], all of one size
   * @param microLabels their class labels for class-conditional networks, else null
   * @param seed the run's seed; together with {@code step} it fixes every random draw
   * @return the step's loss (mean over its micro-batches), or NaN when not fetched (fetching
   *     costs a copy, so the trainer fetches only when it logs)
   */
  public float run(List<FloatArray> microBatches, List<long[]> microLabels, long seed, long step, double learningRate,
      boolean fetchLoss) {
    if (microBatches.size() != accumulate) {
      throw new IllegalArgumentException(microBatches.size() + " micro-batches given, gradient_accumulate_every is " + accumulate);
    }
    Variant v = selfConditioned != null && new SplittableRandom(seed * 31 + step).nextBoolean()
        ? selfConditioned : plain;
    float loss = 0;
    try (TInt64 s = TInt64.vectorOf(seed, step); TFloat32 l = TFloat32.scalarOf((float) learningRate)) {
      for (int j = 0; j < accumulate; j++) {
        try (TFloat32 x = Tensors.of(microBatches.get(j)); TInt32 index = TInt32.scalarOf(j);
            TInt64 y = labels == null ? null : TInt64.vectorOf(requireLabels(microLabels, j))) {
          Session.Runner r = model.session().runner().feed(images, x).feed(this.seed, s).feed(microIndex, index);
          if (y != null) {
            r.feed(labels, y);
          }
          if (accumulate == 1) {
            r.feed(lr, l).addTarget(v.update());
          } else {
            r.addTarget(j == 0 ? v.first() : v.next());
          }
          if (fetchLoss) {
            r.fetch(v.loss());
            if (accumulate == 1) {
              r.fetch(v.gradNorm());
              fetchCounts(r, v.record());
            }
          }
          try (Result res = Tracing.run(r)) {
            loss += fetchLoss ? ((TFloat32) res.get(0)).getFloat() / accumulate : 0;
            lastGradNorm = fetchLoss && accumulate == 1 ? ((TFloat32) res.get(1)).getFloat() : Float.NaN;
            if (fetchLoss && accumulate == 1) {
              lastCounts = counts(res, 2);
            }
          }
        }
      }
      if (accumulate > 1) {
        Session.Runner r = model.session().runner().feed(lr, l).addTarget(applyAccumulated);
        if (fetchLoss) {
          r.fetch(accumulatedNorm);
          fetchCounts(r, accumulatedRecord);
        }
        try (Result res = Tracing.run(r)) {
          lastGradNorm = fetchLoss ? ((TFloat32) res.get(0)).getFloat() : Float.NaN;
          if (fetchLoss) {
            lastCounts = counts(res, 1);
          }
        }
      }
    }
    return fetchLoss ? loss : Float.NaN;
  }

  private static void fetchCounts(Session.Runner r, NonFiniteSteps.Recorded record) {
    r.fetch(record.skipped()).fetch(record.inARow());
  }

  private static NonFiniteSteps.Counts counts(Result res, int from) {
    return new NonFiniteSteps.Counts((long) ((TFloat32) res.get(from)).getFloat(),
        (long) ((TFloat32) res.get(from + 1)).getFloat());
  }

  /** The global norm of the gradients (before clipping) of the last step that fetched its loss, else NaN. */
  public float lastGradNorm() {
    return lastGradNorm;
  }

  /** One unconditional step (no class labels). */
  public float run(List<FloatArray> microBatches, long seed, long step, double learningRate, boolean fetchLoss) {
    return run(microBatches, null, seed, step, learningRate, fetchLoss);
  }

  /** One step on a single batch (no accumulation, no class labels). */
  public float run(FloatArray batch, long seed, long step, double learningRate, boolean fetchLoss) {
    return run(List.of(batch), null, seed, step, learningRate, fetchLoss);
  }

  private long[] requireLabels(List<long[]> microLabels, int j) {
    if (microLabels == null || microLabels.get(j) == null) {
      throw new IllegalArgumentException("the network is class-conditional (num_classes = "
          + model.network().numClasses() + "): the data must have class labels");
    }
    return microLabels.get(j);
  }
}
