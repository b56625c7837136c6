package io.diffusion4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

class FlopCountTest {

  /** A 3x3 convolution and a matrix product: 2 FLOPs per multiply-add, the batch filled in. */
  @Test
  void forwardCountsMatchClosedForms() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 6, 3)));
      Operand<TFloat32> w = tf.zeros(tf.constant(new int[] {3, 3, 3, 4}), TFloat32.class);
      Operand<TFloat32> y = tf.nn.conv2d(x, w, List.of(1L, 1L, 1L, 1L), "SAME");
      assertEquals(2.0 * 5 * 8 * 6 * 4 * (3 * 3 * 3), FlopCount.of(5, y));
      Operand<TFloat32> a = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 7)));
      Operand<TFloat32> b = tf.zeros(tf.constant(new int[] {7, 2}), TFloat32.class);
      Operand<TFloat32> p = tf.linalg.matMul(a, b);
      assertEquals(2.0 * 5 * 7 * 2, FlopCount.of(5, p));
      // one op counted once, however many paths reach it
      assertEquals(2.0 * 5 * 7 * 2, FlopCount.of(5, tf.math.add(p, p)));
    }
  }

  /** Gradients of a convolution cost a forward convolution each (input and filter). */
  @Test
  void backwardCountsTwoConvolutions() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 6, 3)));
      Operand<TFloat32> w = tf.variable(tf.zeros(tf.constant(new int[] {3, 3, 3, 4}), TFloat32.class));
      Operand<TFloat32> y = tf.nn.conv2d(x, w, List.of(1L, 1L, 1L, 1L), "SAME");
      Operand<TFloat32> loss = tf.math.mean(tf.math.square(y), tf.constant(new int[] {0, 1, 2, 3}));
      var dy = tf.gradients(loss, List.of(x, w)).dy();
      double conv = 2.0 * 2 * 8 * 6 * 4 * 27;
      assertEquals(3 * conv, FlopCount.of(2, dy.toArray(Operand<?>[]::new)));
    }
  }
}
