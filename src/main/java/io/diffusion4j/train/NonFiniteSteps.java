package io.diffusion4j.train;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The training graph's record of steps skipped for a non-finite loss or gradient: whether the last
 * step was applied (the EMAs read it, so a skipped step moves none of them) and how many were
 * skipped in all and in a row (the row ends at the last step, so it also says where it began). The
 * record is written by the step's own run, and the trainer reads it only with the losses it logs:
 * no run or fetch of its own. Float counters: the cluster replicates every variable as float32.
 */
final class NonFiniteSteps {
  /** Skipped steps in a row after which even {@link NonFinite#SKIP} gives up. */
  static final int MAX_IN_A_ROW = 100;

  private final Variable<TFloat32> applied;
  private final Variable<TFloat32> skipped;
  private final Variable<TFloat32> inARow;
  private final Op initializer;

  /** The counts as one step left them: skipped steps in all, and in a row up to that step. */
  record Counts(long skipped, long inARow) {
    static final Counts NONE = new Counts(0, 0);

    /**
     * The line that ends the run after step {@code s} (0-based), or empty to go on: under
     * {@code policy} stop, when that step was skipped; under skip, after {@link #MAX_IN_A_ROW} in
     * a row. It names the row's first step and the run's last checkpoint ({@code lastCheckpoint},
     * read only then; null: none), which predates the row: a skipped step changes nothing, and
     * none is saved.
     */
    Optional<String> verdict(NonFinite policy, long s, Supplier<Checkpoints.Info> lastCheckpoint) {
      boolean stop = policy == NonFinite.STOP;
      if (inARow == 0 || !stop && inARow < MAX_IN_A_ROW) {
        return Optional.empty();
      }
      Checkpoints.Info last = lastCheckpoint.get();
      long first = s - inARow + 2;
      String what = stop ? "step " + first + " had a non-finite loss or gradient (NaN or infinite), so the run"
          + " stopped (--nonfinite stop)"
          : inARow + " steps in a row from step " + first + " had a non-finite loss or gradient and were skipped, so"
              + " the run stopped";
      String from = last != null ? "; its last good checkpoint is " + last.directory() + " (step " + last.step()
          + "): go on from it with --resume and a lower --lr"
          : "; no checkpoint was saved before it: start again with a lower --lr";
      return Optional.of(what + from + (stop ? ", or skip such steps with --nonfinite skip" : ""));
    }
  }

  /** A run ended by non-finite losses; the message is the one line to show. */
  static final class Diverged extends IllegalStateException {
    Diverged(String message) {
      super(message);
    }
  }

  NonFiniteSteps(Ops root) {
    Ops tf = root.withSubScope("nonfinite");
    applied = tf.withName("applied").variable(Shape.scalar(), TFloat32.class);
    skipped = tf.withName("skipped").variable(Shape.scalar(), TFloat32.class);
    inARow = tf.withName("in_a_row").variable(Shape.scalar(), TFloat32.class);
    initializer = tf.withControlDependencies(List.of(tf.assign(applied, tf.constant(1f)),
        tf.assign(skipped, tf.constant(0f)), tf.assign(inARow, tf.constant(0f)))).noOp();
  }

  Op initializer() {
    return initializer;
  }

  /** 1 when the last step was applied, 0 when it was skipped. */
  Operand<TFloat32> applied() {
    return applied;
  }

  /** 1 when the scalar {@code x} is finite, else 0. */
  static Operand<TFloat32> finite(Ops tf, Operand<TFloat32> x) {
    return tf.dtypes.cast(tf.math.isFinite(x), TFloat32.class);
  }

  /**
   * Records a step, applied when {@code finite} is 1: the new counts as the run computes them (for
   * the trainer to fetch with the loss) and the op that stores them.
   */
  Recorded record(Ops tf, Operand<TFloat32> finite) {
    Operand<TFloat32> bad = tf.math.sub(tf.constant(1f), finite);
    Operand<TFloat32> total = tf.math.add(skipped, bad);
    Operand<TFloat32> row = tf.math.mul(tf.math.add(inARow, bad), bad);
    Op store = tf.withControlDependencies(List.of(tf.assign(applied, finite), tf.assign(skipped, total),
        tf.assign(inARow, row))).noOp();
    return new Recorded(finite, total, row, store);
  }

  /** One step's record: whether it is applied (1 or 0), the new counts, and the op that stores them. */
  record Recorded(Operand<TFloat32> applied, Operand<TFloat32> skipped, Operand<TFloat32> inARow, Op store) {}
}
