package io.diffusion4j.train;

import io.diffusion4j.diffusion.GaussianDiffusion;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * One optimisation step of a diffusion model as one session run: the loss (its randomness drawn
 * from a per-step seed), gradients, optional global-norm clipping and Adam.
 *
 * <p>With a self-conditioned network the graph holds two variants, and a coin seeded by the step
 * picks one, as the reference flips a coin per batch: half the steps first predict x0 and feed
 * it back with gradients stopped.
 */
public final class TrainStep {
  private final DiffusionModel model;
  private final Placeholder<TFloat32> images;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TFloat32> lr;
  private final Adam adam;
  private final Variant plain;
  private final Variant selfConditioned;

  private record Variant(Operand<TFloat32> loss, Operand<TFloat32> gradNorm, Op update) {}

  public TrainStep(DiffusionModel model, Adam.Options options, double maxGradNorm) {
    this.model = model;
    GaussianDiffusion diffusion = model.diffusion().orElseThrow(
        () -> new IllegalArgumentException("training needs a config with a \"diffusion\" section"));
    Ops tf = model.ops().withSubScope("train");
    long[] perExample = diffusion.sampleShape();
    long[] shape = new long[perExample.length + 1];
    shape[0] = -1;
    System.arraycopy(perExample, 0, shape, 1, perExample.length);
    images = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
    seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    lr = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    List<Parameters.Param> params = model.network().parameters().trainable();
    adam = new Adam(tf, params, options);
    plain = variant(tf, diffusion, params, false, maxGradNorm);
    selfConditioned = diffusion.network().selfCondition() ? variant(tf, diffusion, params, true, maxGradNorm) : null;
    model.session().run(adam.initializer());
  }

  private Variant variant(Ops tf, GaussianDiffusion diffusion, List<Parameters.Param> params,
      boolean selfCond, double maxGradNorm) {
    Operand<TFloat32> loss = diffusion.loss(tf, images, seed, selfCond, Forward.training(seed));
    List<Operand<TFloat32>> vars = new ArrayList<>();
    params.forEach(p -> vars.add(p.variable()));
    List<Operand<TFloat32>> grads = new ArrayList<>();
    for (var g : tf.gradients(loss, vars).dy()) {
      grads.add(g.expect(TFloat32.class));
    }
    Operand<TFloat32> norm = GradientClipping.globalNorm(tf, grads);
    if (maxGradNorm > 0) {
      grads = GradientClipping.clipByGlobalNorm(tf, grads, norm, maxGradNorm);
    }
    return new Variant(loss, norm, adam.apply(tf, grads, lr));
  }

  public DiffusionModel model() {
    return model;
  }

  /**
   * Runs one step on a batch in [0, 1].
   *
   * @param seed the run's seed; together with {@code step} it fixes every random draw
   * @return the loss before the update, or NaN when not fetched (fetching costs a copy)
   */
  public float run(FloatArray batch, long seed, long step, double learningRate, boolean fetchLoss) {
    Variant v = selfConditioned != null && new SplittableRandom(seed * 31 + step).nextBoolean()
        ? selfConditioned : plain;
    Session.Runner r = model.session().runner();
    try (TFloat32 x = Tensors.of(batch); TInt64 s = TInt64.vectorOf(seed, step);
        TFloat32 l = TFloat32.scalarOf((float) learningRate)) {
      r.feed(images, x).feed(this.seed, s).feed(lr, l).addTarget(v.update());
      if (fetchLoss) {
        r.fetch(v.loss());
      }
      try (Result res = r.run()) {
        return fetchLoss ? ((TFloat32) res.get(0)).getFloat() : Float.NaN;
      }
    }
  }
}
