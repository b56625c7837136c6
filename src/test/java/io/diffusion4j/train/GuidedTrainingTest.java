package io.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Close;
import io.diffusion4j.Statistical;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.GuidedUnetConfig;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solvers;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * classifier_free_guidance's Unet and GaussianDiffusion trained with condition dropout: the
 * dropout really replaces classes by the null class, and the trained model draws the class it is
 * asked for (horizontal or vertical bars, as ClassConditionalTest), guided at least as well as unguided.
 */
class GuidedTrainingTest {
  private static final ModelConfig CONFIG = new ModelConfig(
      GuidedUnetConfig.builder(8, 2).dimMults(List.of(1, 2)).channels(1).attnHeads(2).attnDimHead(8).condDropProb(0.2).build(),
      GaussianDiffusionConfig.guidedBuilder(8, 8).timesteps(100).samplingTimesteps(10).ddimSamplingEta(0).build());

  @Test
  void conditionDropoutUsesTheNullClass() {
    ModelConfig always = new ModelConfig(GuidedUnetConfig.builder(8, 2).dimMults(List.of(1, 2)).channels(1).condDropProb(1)
        .build(), null);
    try (DiffusionModel m = DiffusionModel.create(always, 3)) {
      Ops tf = m.ops();
      Operand<TFloat32> x = tf.constant(new float[2][8][8][1]);
      Operand<TFloat32> t = tf.constant(new float[] {5, 50});
      Operand<TFloat32> dropped = m.network().apply(tf, x, t, null, tf.constant(new long[] {0, 1}),
          Forward.training(tf.constant(new long[] {1, 2})));
      Operand<TFloat32> none = m.network().apply(tf, x, t, null, tf.constant(new long[] {-1, -1}), Forward.inference());
      Operand<TFloat32> kept = m.network().apply(tf, x, t, null, tf.constant(new long[] {0, 1}), Forward.inference());
      try (Result r = m.session().runner().fetch(dropped).fetch(none).fetch(kept).run()) {
        float[] d = Tensors.toArray((TFloat32) r.get(0)).data();
        Close.assertClose(Tensors.toArray((TFloat32) r.get(1)).data(), d, 1e-6);
        float[] k = Tensors.toArray((TFloat32) r.get(2)).data();
        assertTrue(!Arrays.equals(d, k), "the null class differs from the classes");
      }
    }
  }

  @Test
  void guidedModelDrawsTheRequestedClass() {
    SplittableRandom rng = new SplittableRandom(3);
    try (DiffusionModel model = DiffusionModel.create(CONFIG, 5)) {
      TrainStep step = new TrainStep(model, new TrainStep.Options(Adam.Options.defaults(), 1.0, 1));
      for (int i = 0; i < 400; i++) {
        long[] labels = new long[32];
        step.run(List.of(ClassConditionalTest.bars(rng, labels)), List.of(labels), 17, i, 5e-3, false);
      }
      DiffusionSampler sampler = model.sampler();
      int n = ClassConditionalTest.SAMPLES;
      long[] asked = new long[n];
      Arrays.fill(asked, n / 2, n, 1);
      FloatArray noise = sampler.initialNoise(n, 9);
      Settings base = Settings.of(sampler.denoiser(), Solvers.named("ddim"), 10, null, 0.0, null, 9);
      boolean[] plain = right(sampler.sample(base.withGuidance(sampler.denoiser(), Guidance.DEFAULT.withCondScale(1)),
          noise, asked), asked);
      boolean[] guided = right(sampler.sample(base.withGuidance(sampler.denoiser(), new Guidance(3, 0, true, 0)),
          noise, asked), asked);
      int guidedRight = 0;
      int onlyGuided = 0;
      int onlyPlain = 0;
      for (int b = 0; b < n; b++) {
        guidedRight += guided[b] ? 1 : 0;
        onlyGuided += guided[b] && !plain[b] ? 1 : 0;
        onlyPlain += plain[b] && !guided[b] ? 1 : 0;
      }
      Statistical.assertRateAtLeast(guidedRight, n, ClassConditionalTest.RATE, "guided samples showing the class asked for");
      // from the same noise: where the two disagree, guidance is right at least as often as not when it
      // does not lower the rate (McNemar's exact test)
      Statistical.assertRateAtLeast(onlyGuided, onlyGuided + onlyPlain, 0.5,
          "samples right with guidance only, among those right with exactly one of guided and unguided");
    }
  }

  private static boolean[] right(FloatArray s, long[] asked) {
    boolean[] right = new boolean[asked.length];
    for (int b = 0; b < asked.length; b++) {
      boolean horizontal = ClassConditionalTest.lineMean(s.data(), b, true) > ClassConditionalTest.lineMean(s.data(), b,
          false);
      right[b] = horizontal == (asked[b] == 0);
    }
    return right;
  }
}
