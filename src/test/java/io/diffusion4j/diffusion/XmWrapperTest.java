package io.diffusion4j.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/** XMWrapper's loss: grouping the candidates into calls changes nothing, and it is each example's least. */
class XmWrapperTest {

  @Test
  void leastCandidateLossWhateverTheGrouping() {
    GaussianDiffusionConfig cfg = GaussianDiffusionConfig.builder(4, 4).timesteps(20).build();
    try (DiffusionModel m = DiffusionModel.create(new ModelConfig(TinyModels.unet2d(1, false), cfg), 1)) {
      Ops tf = m.ops();
      Diffusion d = m.diffusion().orElseThrow();
      Operand<TFloat32> images = TinyModels.constant(tf, TinyModels.uniform(3, 0, 1, 4, 4, 4, 1));
      Operand<TInt64> seed = tf.constant(new long[] {5, 6});
      Operand<TInt32> rows = BatchWindow.rows(tf, images);
      BatchWindow whole = BatchWindow.whole(tf, rows);
      int k = 3;
      float oneCall = value(m, new XmWrapper(k, null).loss(d, tf, images, null, seed, whole, 4, false));
      float byCopy = value(m, new XmWrapper(k, 4).loss(d, tf, images, null, seed, whole, 4, false));
      float twoCalls = value(m, new XmWrapper(k, 9).loss(d, tf, images, null, seed, whole, 4, false));
      assertEquals(oneCall, byCopy, 1e-6);
      assertEquals(oneCall, twoCalls, 1e-6);
      // each candidate alone, as its own window: the wrapper takes each example's least
      float[][] alone = new float[k][];
      for (int j = 0; j < k; j++) {
        BatchWindow w = whole.copies(j, 1, k);
        alone[j] = values(m, d.losses(tf, images, null, seed, w, false, Forward.training(seed, w)));
      }
      double mean = 0;
      for (int i = 0; i < 4; i++) {
        mean += Math.min(alone[0][i], Math.min(alone[1][i], alone[2][i])) / 4;
      }
      assertEquals(mean, oneCall, 1e-6);
      assertTrue(alone[0][0] != alone[1][0], "candidates see noise of their own");
      assertEquals(oneCall, value(m, new XmWrapper(k, null).loss(d, tf, images, null, seed, whole, 4, false)), 0,
          "a pure function of the seed");
    }
  }

  private static float value(DiffusionModel m, Operand<TFloat32> x) {
    return values(m, x)[0];
  }

  private static float[] values(DiffusionModel m, Operand<TFloat32> x) {
    try (Result r = m.session().runner().fetch(x).run()) {
      return io.diffusion4j.nn.Tensors.toArray((TFloat32) r.get(0)).data();
    }
  }
}
