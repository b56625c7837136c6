package io.diffusion4j.train;


import io.diffusion4j.Statistical;
import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.KarrasUnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solvers;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A tiny class-conditional KarrasUnet under EDM learns to draw the class it is asked for: class 0
 * is a horizontal bar, class 1 a vertical one, at random positions in 8x8 images.
 */
class ClassConditionalTest {
  static final int SAMPLES = 512;
  /** H0: a conditional toy trained 400 steps draws the class asked for with probability at least this. */
  static final double RATE = 0.75;

  @Test
  void karrasUnetDrawsTheRequestedClass() {
    ModelConfig config = new ModelConfig(
        KarrasUnetConfig.builder(8).dim(16).dimMax(32).channels(1).numClasses(2).numDownsamples(1)
            .numBlocksPerStage(List.of(1)).attnRes(List.of()).dropout(0).build(),
        ElucidatedDiffusionConfig.builder(8, 8).channels(1).build());
    SplittableRandom rng = new SplittableRandom(3);
    try (DiffusionModel model = DiffusionModel.create(config, 5)) {
      TrainStep step = new TrainStep(model, new TrainStep.Options(Adam.Options.defaults(), 1.0, 1));
      for (int i = 0; i < 400; i++) {
        long[] labels = new long[32];
        step.run(List.of(bars(rng, labels)), List.of(labels), 17, i, 5e-3, false);
      }
      DiffusionSampler sampler = model.sampler();
      long[] asked = new long[SAMPLES];
      Arrays.fill(asked, SAMPLES / 2, SAMPLES, 1);
      FloatArray s = sampler.sample(Settings.of(sampler.denoiser(), Solvers.named("heun"), 16, null, null, null, 9),
          sampler.initialNoise(SAMPLES, 9), asked);
      int right = 0;
      for (int b = 0; b < SAMPLES; b++) {
        boolean horizontal = lineMean(s.data(), b, true) > lineMean(s.data(), b, false);
        if (horizontal == (asked[b] == 0)) {
          right++;
        }
      }
      // chance is 50%; at RATE the bound lies 9 standard deviations above chance
      Statistical.assertRateAtLeast(right, SAMPLES, RATE, "samples showing the class asked for");
    }
  }

  /** A batch of bars; labels receive each example's class (0 horizontal, 1 vertical). */
  static FloatArray bars(SplittableRandom rng, long[] labels) {
    int n = labels.length;
    float[] d = new float[n * 64];
    for (int b = 0; b < n; b++) {
      labels[b] = rng.nextInt(2);
      int at = rng.nextInt(8);
      for (int k = 0; k < 8; k++) {
        int y = labels[b] == 0 ? at : k;
        int x = labels[b] == 0 ? k : at;
        d[(b * 8 + y) * 8 + x] = 1;
      }
    }
    return new FloatArray(new long[] {n, 8, 8, 1}, d);
  }

  /** The brightest row (or column) mean of image b. */
  static double lineMean(float[] d, int b, boolean rows) {
    double best = 0;
    for (int i = 0; i < 8; i++) {
      double sum = 0;
      for (int k = 0; k < 8; k++) {
        sum += rows ? d[(b * 8 + i) * 8 + k] : d[(b * 8 + k) * 8 + i];
      }
      best = Math.max(best, sum / 8);
    }
    return best;
  }
}
