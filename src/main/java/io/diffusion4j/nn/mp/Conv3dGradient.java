package io.diffusion4j.nn.mp;

import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.CustomGradient;
import org.tensorflow.op.nn.Conv3d;
import org.tensorflow.op.nn.Conv3dBackpropFilter;
import org.tensorflow.op.nn.Conv3dBackpropInput;
import org.tensorflow.types.TFloat32;

/**
 * The gradient of Conv3D, which TensorFlow's C++ gradient registry lacks (graph.addGradients
 * fails on it): d input by Conv3DBackpropInputV2 and d filter by Conv3DBackpropFilterV2, with the
 * forward op's strides, padding, data format and dilations. Registered from Java once per JVM.
 */
public final class Conv3dGradient {
  private static boolean registered;

  private Conv3dGradient() {}

  /** Registers the gradient unless this JVM already has one; safe to call any number of times. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  public static synchronized void ensureRegistered() {
    if (registered) {
      return;
    }
    CustomGradient<Conv3d.Inputs> gradient = (tf, op, gradOutputs) -> {
      Operand<TFloat32> dy = (Operand<TFloat32>) gradOutputs.get(0);
      Operand<TFloat32> input = (Operand<TFloat32>) op.input;
      Operand<TFloat32> filter = (Operand<TFloat32>) op.filter;
      List<Long> strides = boxed(op.strides);
      List<Long> dilations = boxed(op.dilations);
      Operand<TFloat32> dx = tf.nn.conv3dBackpropInput(tf.shape(input), filter, dy, strides, op.padding,
          Conv3dBackpropInput.dataFormat(op.dataFormat), Conv3dBackpropInput.dilations(dilations));
      Operand<TFloat32> dw = tf.nn.conv3dBackpropFilter(input, tf.shape(filter), dy, strides, op.padding,
          Conv3dBackpropFilter.dataFormat(op.dataFormat), Conv3dBackpropFilter.dilations(dilations));
      return List.of(dx, dw);
    };
    // returns false, keeping the existing one, when Conv3D already has a gradient (registered by
    // other code of this JVM, or a TensorFlow that ships one)
    TensorFlow.registerCustomGradient(Conv3d.Inputs.class, gradient);
    registered = true;
  }

  private static List<Long> boxed(long[] values) {
    return Arrays.stream(values).boxed().toList();
  }
}
