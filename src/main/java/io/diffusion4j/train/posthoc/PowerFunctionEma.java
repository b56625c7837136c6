package io.diffusion4j.train.posthoc;

import io.diffusion4j.nn.Parameters;
import io.diffusion4j.runtime.Tracing;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Power-function EMAs of a network's weights, one profile per sigma_rel, tracked in the graph
 * (Karras et al. 2024, Sec. 3.1): after step t (counted from 1) each profile moves by
 * ema += (1 - beta_t) (online - ema), beta_t = (1 - 1/t)^(gamma + 1), so that at every t it
 * weighs the run's past weights by the power function of its gamma. The profiles are
 * VariableV2 of the training graph, so checkpoints save and restore them with everything else.
 */
public final class PowerFunctionEma {
  private final Parameters online;
  private final List<Double> sigmaRels;
  private final double[] gammas;
  private final List<List<Variable<TFloat32>>> profiles = new ArrayList<>();
  private final List<Placeholder<TFloat32>> weights = new ArrayList<>();
  private final List<Op> updates = new ArrayList<>();
  private final Op copy;

  /**
   * Profiles of {@code online}'s weights, set equal to them in {@code session} now, moving only
   * after a step that {@code applied} (1 or 0, null: every step) says was applied.
   */
  public PowerFunctionEma(Ops root, Parameters online, List<Double> sigmaRels, Session session,
      Operand<TFloat32> applied) {
    this.online = online;
    this.sigmaRels = List.copyOf(sigmaRels);
    this.gammas = sigmaRels.stream().mapToDouble(PowerFunction::gamma).toArray();
    List<Op> copies = new ArrayList<>();
    List<Op> gatedCopies = new ArrayList<>();
    for (int i = 0; i < gammas.length; i++) {
      Ops tf = root.withSubScope("post_hoc_ema_" + i);
      Placeholder<TFloat32> weight = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      List<Variable<TFloat32>> profile = new ArrayList<>();
      List<Op> moves = new ArrayList<>();
      for (Parameters.Param p : online.all()) {
        Variable<TFloat32> v = tf.withName(p.name()).variable(Shape.of(p.layout().tfShape()), TFloat32.class);
        profile.add(v);
        copies.add(EmaUpdates.copy(tf, v, p.variable(), null));
        gatedCopies.add(EmaUpdates.copy(tf, v, p.variable(), applied));
        moves.add(EmaUpdates.move(tf, v, p.variable(), weight, applied));
      }
      profiles.add(profile);
      weights.add(weight);
      updates.add(tf.withControlDependencies(moves).noOp());
    }
    copy = root.withSubScope("post_hoc_ema").withControlDependencies(gatedCopies).noOp();
    Tracing.run(session.runner().addTarget(root.withSubScope("post_hoc_ema_start").withControlDependencies(copies)
        .noOp())).close();
  }

  /** Writes every profile's snapshot at step {@code t} into {@code folder}, one profile's weights in memory at a time. */
  public void writeSnapshots(Session session, Path folder, long t) throws IOException {
    for (int i = 0; i < gammas.length; i++) {
      Snapshots.write(folder, sigmaRels.get(i), gammas[i], t, online.read(session, profiles.get(i)));
    }
  }

  /**
   * Moves every profile after training step {@code t} (counted from 1; after that step's
   * optimiser update), all in one run. Step 1 copies: beta_1 = 0, and a copy is exact where
   * ema - (ema - online) may round.
   */
  public void update(Session session, long t) {
    if (t == 1) {
      Tracing.run(session.runner().addTarget(copy)).close();
      return;
    }
    List<TFloat32> fed = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (int i = 0; i < gammas.length; i++) {
        TFloat32 w = TFloat32.scalarOf((float) PowerFunction.updateWeight(gammas[i], t));
        fed.add(w);
        runner.feed(weights.get(i), w).addTarget(updates.get(i));
      }
      Tracing.run(runner).close();
    } finally {
      fed.forEach(TFloat32::close);
    }
  }
}
