package io.diffusion4j.nn.mp;

import io.diffusion4j.nn.Init;
import io.diffusion4j.nn.ParamLayout;
import io.diffusion4j.nn.ParamScope;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A learned scalar that scales a branch (the paper's zero-initialised gains, config G): parameter
 * {@code gain}, a 0-dimensional tensor starting at 0, so the branch starts switched off.
 */
public final class Gain {
  private final Operand<TFloat32> gain;

  public Gain(ParamScope s) {
    gain = s.param("gain", ParamLayout.same(), Init.constant(0f));
  }

  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(x, gain);
  }
}
