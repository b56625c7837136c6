package io.diffusion4j.models;

import io.diffusion4j.nn.Conv;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Functional;
import io.diffusion4j.nn.Linear;
import io.diffusion4j.nn.ParamScope;
import io.diffusion4j.nn.RmsNorm;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The reference's ResnetBlock: two conv-RMSNorm-SiLU blocks, the first modulated by the time
 * embedding as x * (scale + 1) + shift, plus a 1x1 conv on the residual when widths differ.
 */
final class ResnetBlock {
  private final Linear mlp;
  private final Conv proj1;
  private final RmsNorm norm1;
  private final Conv proj2;
  private final RmsNorm norm2;
  private final Conv resConv;
  private final double dropout;

  ResnetBlock(ParamScope s, int spatialRank, int dim, int dimOut, int timeDim, double dropout) {
    this(s, spatialRank, dim, dimOut, timeDim, dropout, RmsNorm.channelsFirst(spatialRank));
  }

  /** @param norms makes the blocks' norms (the gains' PyTorch shape differs by model) */
  ResnetBlock(ParamScope s, int spatialRank, int dim, int dimOut, int timeDim, double dropout, RmsNorm.Factory norms) {
    this.dropout = dropout;
    mlp = new Linear(s.child("mlp").child(1), timeDim, 2 * dimOut);
    proj1 = Conv.same(s.child("block1").child("proj"), spatialRank, dim, dimOut, 3);
    norm1 = norms.create(s.child("block1").child("norm"), dimOut);
    proj2 = Conv.same(s.child("block2").child("proj"), spatialRank, dimOut, dimOut, 3);
    norm2 = norms.create(s.child("block2").child("norm"), dimOut);
    resConv = dim != dimOut ? new Conv(s.child("res_conv"), spatialRank, dim, dimOut, 1, 1, 0, true) : null;
  }

  /** @param timeEmb [N, timeDim] */
  Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> timeEmb, Forward fwd) {
    Operand<TFloat32> emb = mlp.apply(tf, Functional.silu(tf, timeEmb));
    // [N, 2C] -> [N, 1, 1, 2C] (images and sequences alike run 4-D)
    emb = tf.reshape(emb, tf.constant(new long[] {-1, 1, 1, emb.shape().get(1)}));
    List<Output<TFloat32>> scaleShift = tf.split(tf.constant(-1), emb, 2L).output();

    Operand<TFloat32> h = norm1.apply(tf, proj1.apply(tf, x));
    h = tf.math.add(tf.math.mul(h, tf.math.add(scaleShift.get(0), tf.constant(1f))), scaleShift.get(1));
    h = Functional.dropout(tf, Functional.silu(tf, h), dropout, fwd);

    h = Functional.silu(tf, norm2.apply(tf, proj2.apply(tf, h)));
    return tf.math.add(h, resConv == null ? x : resConv.apply(tf, x));
  }
}
