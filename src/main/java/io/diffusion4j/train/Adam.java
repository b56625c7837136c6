package io.diffusion4j.train;

import io.diffusion4j.nn.Parameters;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Adam (Kingma and Ba 2015) written with TensorFlow's ApplyAdam and VariableV2 slots, so that its
 * state is saved with the weights. Graph mode has no implicit order: every update depends on all
 * gradients, and the bias-correction powers advance only after every update, which makes seeded
 * runs bit-for-bit reproducible.
 *
 * <p>ApplyAdam adds epsilon to sqrt(v_hat) * sqrt(1 - beta2^t) rather than to sqrt(v_hat) as
 * torch.optim.Adam does: the same method, epsilon scaled by at most 1.
 */
public final class Adam {
  /** The reference Trainer's defaults: lr 1e-4, betas (0.9, 0.99), torch's eps 1e-8. */
  public record Options(double beta1, double beta2, double epsilon) {
    public static Options defaults() {
      return new Options(0.9, 0.99, 1e-8);
    }

    public Options {
      if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException("adam_betas = (" + beta1 + ", " + beta2 + ") must each be in [0, 1)");
      }
      if (!(epsilon > 0)) {
        throw new IllegalArgumentException("adam epsilon = " + epsilon + " must be > 0");
      }
    }
  }

  private final Options options;
  private final List<Variable<TFloat32>> vars = new ArrayList<>();
  private final List<Variable<TFloat32>> m = new ArrayList<>();
  private final List<Variable<TFloat32>> v = new ArrayList<>();
  private final Variable<TFloat32> beta1Power;
  private final Variable<TFloat32> beta2Power;
  private final Op initializer;

  /** Creates the optimizer's slots for {@code params} (names {@code adam/<param>.m} and {@code .v}). */
  public Adam(Ops root, List<Parameters.Param> params, Options options) {
    this.options = options;
    Ops tf = root.withSubScope("adam");
    List<Op> inits = new ArrayList<>();
    // Fill, not tf.zeros: tf.zeros opens a sub-scope, which scans every op of the graph
    Operand<TFloat32> zero = tf.constant(0f);
    for (Parameters.Param p : params) {
      Shape shape = Shape.of(p.layout().tfShape());
      Variable<TFloat32> mv = tf.withName(p.name() + ".m").variable(shape, TFloat32.class);
      Variable<TFloat32> vv = tf.withName(p.name() + ".v").variable(shape, TFloat32.class);
      inits.add(tf.assign(mv, tf.fill(tf.constant(shape), zero)));
      inits.add(tf.assign(vv, tf.fill(tf.constant(shape), zero)));
      vars.add(p.variable());
      m.add(mv);
      v.add(vv);
    }
    beta1Power = tf.withName("beta1_power").variable(Shape.scalar(), TFloat32.class);
    beta2Power = tf.withName("beta2_power").variable(Shape.scalar(), TFloat32.class);
    inits.add(tf.assign(beta1Power, tf.constant((float) options.beta1())));
    inits.add(tf.assign(beta2Power, tf.constant((float) options.beta2())));
    initializer = tf.withControlDependencies(inits).noOp();
  }

  /** Resets the moments and the step count. */
  public Op initializer() {
    return initializer;
  }

  /** One update of every variable from its gradient, at learning rate {@code lr} (a scalar). */
  public Op apply(Ops root, List<Operand<TFloat32>> grads, Operand<TFloat32> lr) {
    return apply(root, grads, lr, null);
  }

  /**
   * As {@link #apply(Ops, List, Operand)}, gated: where {@code gate} (a float scalar, 1 or 0) is 0
   * nothing changes, as if the step had not been taken (float16's skipped steps). ApplyAdam with
   * beta1 = beta2 = 1 and learning rate 0 leaves weights and moments as they are; the gradients
   * are zeroed with mul_no_nan so that an infinite one cannot leak in.
   */
  public Op apply(Ops root, List<Operand<TFloat32>> grads, Operand<TFloat32> lr, Operand<TFloat32> gate) {
    if (grads.size() != vars.size()) {
      throw new IllegalArgumentException(grads.size() + " gradients for " + vars.size() + " variables");
    }
    Ops tf = root.withSubScope("adam_update");
    Operand<TFloat32> beta1 = tf.constant((float) options.beta1());
    Operand<TFloat32> beta2 = tf.constant((float) options.beta2());
    if (gate != null) {
      Operand<TFloat32> one = tf.constant(1f);
      beta1 = tf.math.sub(one, tf.math.mul(tf.math.sub(one, beta1), gate));
      beta2 = tf.math.sub(one, tf.math.mul(tf.math.sub(one, beta2), gate));
      lr = tf.math.mul(lr, gate);
      List<Operand<TFloat32>> gated = new ArrayList<>();
      for (Operand<TFloat32> g : grads) {
        gated.add(tf.math.mulNoNan(g, gate));
      }
      grads = gated;
    }
    // every read of a gradient happens before any variable changes
    List<Op> gradReady = new ArrayList<>();
    grads.forEach(g -> gradReady.add(tf.identity(g)));
    Ops ordered = tf.withControlDependencies(gradReady);
    List<Op> updates = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      updates.add(ordered.train.applyAdam(vars.get(i), m.get(i), v.get(i), beta1Power, beta2Power, lr,
          beta1, beta2, ordered.constant((float) options.epsilon()), grads.get(i)));
    }
    Ops after = tf.withControlDependencies(updates);
    Op p1 = after.assign(beta1Power, after.math.mul(beta1Power, beta1));
    Op p2 = after.assign(beta2Power, after.math.mul(beta2Power, beta2));
    return tf.withControlDependencies(List.of(p1, p2)).noOp();
  }

  /** The slot variables, for checkpoints. */
  public List<Variable<TFloat32>> state() {
    List<Variable<TFloat32>> all = new ArrayList<>(m);
    all.addAll(v);
    all.add(beta1Power);
    all.add(beta2Power);
    return all;
  }
}
