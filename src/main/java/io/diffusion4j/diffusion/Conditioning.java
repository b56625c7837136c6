package io.diffusion4j.diffusion;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * What a network evaluation is conditioned on besides x and the noise level.
 *
 * @param selfCond the previous x0 estimate for self-conditioned networks (null: zeros, or none)
 * @param classLabels [N] class indices for class-conditional networks, else null
 * @param guidance classifier-free guidance's fixed settings, or null for plain conditional evaluation
 * @param condScale float32 scalar, guidance's scale (with {@code guidance} only)
 */
public record Conditioning(Operand<TFloat32> selfCond, Operand<TInt64> classLabels, Guidance guidance,
    Operand<TFloat32> condScale) {
  public static final Conditioning NONE = new Conditioning(null, null, null, null);

  public Conditioning {
    if ((guidance == null) != (condScale == null)) {
      throw new IllegalArgumentException("guidance needs both its settings and its scale");
    }
  }

  public Conditioning(Operand<TFloat32> selfCond, Operand<TInt64> classLabels) {
    this(selfCond, classLabels, null, null);
  }

  public boolean guided() {
    return guidance != null;
  }
}
