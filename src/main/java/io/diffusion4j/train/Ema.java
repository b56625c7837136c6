package io.diffusion4j.train;

import io.diffusion4j.nn.Parameters;
import io.diffusion4j.runtime.Tracing;
import io.diffusion4j.train.posthoc.EmaUpdates;
import io.diffusion4j.train.posthoc.PowerFunction;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * An exponential moving average of a network's weights kept in a twin network, with the warm-up
 * the Python reference gets from ema_pytorch: called once per training step, it acts every
 * {@code updateEvery} calls; until call {@code updateAfterStep} it copies the weights, then it
 * moves them with decay min(beta, 1 - (1 + n)^(-power)), n counting calls past the warm-up. Given
 * a sigma_rel instead, it is Karras et al. 2024's power-function EMA of that relative width:
 * the weights of step tau weigh (tau / t)^gamma at step t, from the first step on.
 */
public final class Ema {
  /** ema_pytorch's defaults as the reference Trainer uses them (beta = ema_decay). */
  public static final int UPDATE_AFTER_STEP = 100;
  public static final double INV_GAMMA = 1.0;
  public static final double POWER = 2.0 / 3.0;

  private final double beta;
  /** The power function's exponent, or NaN for the reference's decay. */
  private final double gamma;
  private final int updateEvery;
  private final Op copy;
  private final Op update;
  private final Placeholder<TFloat32> decay;

  /**
   * @param sigmaRel null for the reference's decay {@code beta}, else the power function's width
   * @param applied the training step's flag (1 or 0): the average moves only after an applied
   *     step; null: after every step
   */
  public Ema(Ops root, Parameters online, Parameters shadow, double beta, Double sigmaRel, int updateEvery,
      Operand<TFloat32> applied) {
    if (!(beta >= 0 && beta < 1)) {
      throw new IllegalArgumentException("ema_decay = " + beta + " must be in [0, 1)");
    }
    if (updateEvery < 1) {
      throw new IllegalArgumentException("ema_update_every = " + updateEvery + " must be at least 1");
    }
    if (sigmaRel != null) {
      PowerFunction.check("ema_sigma_rel", sigmaRel);
    }
    this.beta = beta;
    this.gamma = sigmaRel == null ? Double.NaN : PowerFunction.gamma(sigmaRel);
    this.updateEvery = updateEvery;
    Ops tf = root.withSubScope("ema_update");
    decay = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    List<Op> copies = new ArrayList<>();
    List<Op> moves = new ArrayList<>();
    for (Parameters.Param p : online.all()) {
      var target = shadow.get(p.name()).variable();
      copies.add(EmaUpdates.copy(tf, target, p.variable(), applied));
      moves.add(EmaUpdates.move(tf, target, p.variable(), tf.math.sub(tf.constant(1f), decay), applied));
    }
    copy = tf.withControlDependencies(copies).noOp();
    update = tf.withControlDependencies(moves).noOp();
  }

  /**
   * The decay applied at call {@code call} (0-based), or -1 when that call copies, or NaN when it
   * does nothing.
   */
  public double decayAt(long call) {
    if (call % updateEvery != 0) {
      return Double.NaN;
    }
    if (!Double.isNaN(gamma)) {
      return call == 0 ? -1 : 1 - PowerFunction.updateWeight(gamma, call + 1, updateEvery);
    }
    if (call <= UPDATE_AFTER_STEP) {
      return -1;
    }
    double epoch = call - UPDATE_AFTER_STEP;
    return Math.min(beta, Math.max(0, 1 - Math.pow(1 + epoch / INV_GAMMA, -POWER)));
  }

  /** The update for training step {@code call} (0-based, after that step's optimiser update). */
  public void step(Session session, long call) {
    double d = decayAt(call);
    if (Double.isNaN(d)) {
      return;
    }
    if (d < 0) {
      Tracing.run(session.runner().addTarget(copy)).close();
      return;
    }
    try (TFloat32 value = TFloat32.scalarOf((float) d)) {
      Tracing.run(session.runner().feed(decay, value).addTarget(update)).close();
    }
  }
}
