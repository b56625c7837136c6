package io.diffusion4j.diffusion;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * What a network evaluation is conditioned on besides x and the noise level.
 *
 * @param selfCond the previous x0 estimate for self-conditioned networks (null: zeros, or none)
 * @param classLabels [N] class indices for class-conditional networks, else null
 */
public record Conditioning(Operand<TFloat32> selfCond, Operand<TInt64> classLabels) {
  public static final Conditioning NONE = new Conditioning(null, null);
}
