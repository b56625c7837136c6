package io.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.diffusion4j.Statistical;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

class ImageNoiseTest {

  /** Noise of images first .. first + n - 1 for a per-example shape, from one graph. */
  private static final class Draw implements AutoCloseable {
    final Graph g = new Graph();
    final Session s = new Session(g);
    final long[] perExample;
    final Placeholder<TInt64> seed;
    final Placeholder<TInt64> stream;
    final Placeholder<TInt64> first;
    final Placeholder<TInt32> shape;
    final Operand<TFloat32> noise;

    Draw(long... perExample) {
      this.perExample = perExample;
      Ops tf = Ops.create(g);
      seed = tf.placeholder(TInt64.class);
      stream = tf.placeholder(TInt64.class);
      first = tf.placeholder(TInt64.class);
      shape = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(perExample.length + 1)));
      noise = ImageNoise.draw(tf, seed, stream, first, shape, perExample);
    }

    FloatArray of(long seedValue, long streamValue, long firstImage, int n) {
      int[] dims = Arrays.stream(Tensors.batchShape(n, perExample)).mapToInt(Math::toIntExact).toArray();
      try (TInt64 sd = TInt64.scalarOf(seedValue); TInt64 st = TInt64.scalarOf(streamValue);
          TInt64 f = TInt64.scalarOf(firstImage); TInt32 sh = TInt32.vectorOf(dims);
          Result r = s.runner().feed(seed, sd).feed(stream, st).feed(first, f).feed(shape, sh).fetch(noise).run()) {
        return Tensors.toArray((TFloat32) r.get(0));
      }
    }

    @Override
    public void close() {
      s.close();
      g.close();
    }
  }

  /** Every image keeps its values in any batch, whether or not its size is a multiple of Philox's four. */
  @Test
  void anImagesNoiseDoesNotDependOnItsBatch() {
    for (long[] example : new long[][] {{4, 4, 1}, {3, 5, 1}, {7, 2}}) {
      try (Draw d = new Draw(example)) {
        FloatArray whole = d.of(11, -1, 0, 13);
        int per = (int) (whole.size() / 13);
        for (int[] cut : new int[][] {{0, 1}, {1, 5}, {3, 7}, {12, 1}}) {
          FloatArray part = d.of(11, -1, cut[0], cut[1]);
          assertArrayEquals(Arrays.copyOfRange(whole.data(), cut[0] * per, (cut[0] + cut[1]) * per), part.data(),
              Arrays.toString(example) + " images " + cut[0] + "+" + cut[1]);
        }
      }
    }
  }

  @Test
  void seedsAndStreamsGiveIndependentStandardNormals() {
    try (Draw d = new Draw(32, 32, 3)) {
      FloatArray a = d.of(1, 0, 0, 64);
      double[] values = new double[a.data().length];
      for (int i = 0; i < values.length; i++) {
        values[i] = a.data()[i];
      }
      int n = values.length;
      Statistical.assertMeanWithin(values, 0, 0, "the draws' mean");
      Statistical.assertStdWithin(values, 1, 0, "the draws' standard deviation");
      assertFalse(Arrays.equals(a.data(), d.of(2, 0, 0, 64).data()), "another seed");
      assertFalse(Arrays.equals(a.data(), d.of(1, 1, 0, 64).data()), "another stream");
      double cross = 0;
      float[] b = d.of(1, 1, 0, 64).data();
      for (int i = 0; i < n; i++) {
        cross += a.data()[i] * b[i];
      }
      // the product of two independent standard normals has variance 1
      Statistical.assertNormalWithin(cross / n, 0, 1 / Math.sqrt(n), 0, "the streams' correlation");
    }
  }

  /** Whole runs with per-step noise (DDPM, Euler with churn) give each image the same result in any batch. */
  @Test
  void samplesDoNotDependOnTheBatchSize() {
    UnetConfig unet = UnetConfig.builder(4).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(4)).build();
    ModelConfig gaussian = new ModelConfig(unet, GaussianDiffusionConfig.builder(8, 8).timesteps(6).build());
    ModelConfig edm = new ModelConfig(UnetConfig.builder(4).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(4))
        .learnedSinusoidalCond(true).build(),
        ElucidatedDiffusionConfig.builder(8, 8).channels(1).numSampleSteps(4).sChurn(40).build());
    for (Object[] c : new Object[][] {{gaussian, "ddpm"}, {gaussian, "ddim"}, {edm, "euler"}, {edm, "dpmpp_2m_sde"}}) {
      try (DiffusionModel m = DiffusionModel.create((ModelConfig) c[0], 3)) {
        DiffusionSampler s = m.sampler();
        Settings kind = Settings.of(s.denoiser(), Solvers.named((String) c[1]), 3, null, 1.0, null, 9);
        float[] whole = s.sample(kind, s.initialNoise(0, 5, 9), 0, null).data();
        float[] head = s.sample(kind, s.initialNoise(0, 2, 9), 0, null).data();
        float[] tail = s.sample(kind, s.initialNoise(2, 3, 9), 2, null).data();
        float[] joined = Arrays.copyOf(head, whole.length);
        System.arraycopy(tail, 0, joined, head.length, tail.length);
        assertArrayEquals(whole, joined, 1e-5f, kind.solver().name());
        assertFalse(Arrays.equals(Arrays.copyOfRange(whole, 0, head.length), Arrays.copyOfRange(whole, head.length,
            2 * head.length)), "images differ from one another");
      }
    }
  }
}
