package io.diffusion4j.train;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Gradient clipping as torch.nn.utils.clip_grad_norm_ does it. */
public final class GradientClipping {
  private GradientClipping() {}

  /** sqrt of the sum of squares of every gradient entry. */
  public static Operand<TFloat32> globalNorm(Ops root, List<Operand<TFloat32>> grads) {
    Ops tf = root.withSubScope("global_norm");
    List<Operand<TFloat32>> squares = new ArrayList<>();
    for (Operand<TFloat32> g : grads) {
      squares.add(tf.reduceSum(tf.math.square(g), tf.constant(allAxes(g.shape().numDimensions()))));
    }
    return tf.math.sqrt(tf.math.addN(squares));
  }

  /** Scales all gradients by min(1, maxNorm / (norm + 1e-6)), so their global norm is at most maxNorm. */
  public static List<Operand<TFloat32>> clipByGlobalNorm(Ops root, List<Operand<TFloat32>> grads,
      Operand<TFloat32> norm, double maxNorm) {
    Ops tf = root.withSubScope("clip_by_global_norm");
    Operand<TFloat32> coef = tf.math.minimum(tf.constant(1f),
        tf.math.div(tf.constant((float) maxNorm), tf.math.add(norm, tf.constant(1e-6f))));
    List<Operand<TFloat32>> out = new ArrayList<>();
    grads.forEach(g -> out.add(tf.math.mul(g, coef)));
    return out;
  }

  private static int[] allAxes(int rank) {
    int[] a = new int[rank];
    for (int i = 0; i < rank; i++) {
      a[i] = i;
    }
    return a;
  }
}
