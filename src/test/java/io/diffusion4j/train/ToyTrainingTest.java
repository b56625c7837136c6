package io.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Statistical;
import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solvers;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Tiny models trained for a few hundred steps sample the statistics of their training data. Each
 * sample check tests a null hypothesis of what a learnt toy does, with a false-failure
 * probability of at most 1e-4 ({@link Statistical}); an untrained or broken model fails (its
 * samples are near-uniform noise).
 */
class ToyTrainingTest {

  static final int LEN = 16;

  /** Sequences whose values sit around one of two levels, 0.25 or 0.75, chosen per sequence. */
  @Test
  void gaussian1dLearnsTwoComponentMixture() {
    ModelConfig config = new ModelConfig(
        UnetConfig.builder1d(16).dimMults(List.of(1, 2)).channels(1).build(),
        GaussianDiffusionConfig.builder1d(LEN).timesteps(100).build());
    checkMixture(config, "ddim", 25, 0.5);
  }

  /** The same toy under EDM: a Unet1D with learned sinusoidal time, sampled with Heun. */
  @Test
  void elucidated1dLearnsTwoComponentMixture() {
    ModelConfig config = new ModelConfig(
        UnetConfig.builder1d(16).dimMults(List.of(1, 2)).channels(1).learnedSinusoidalCond(true).build(),
        ElucidatedDiffusionConfig.builder(LEN).channels(1).build());
    checkMixture(config, "heun", 16, 0.7);
  }

  static FloatArray mixture(SplittableRandom rng) {
    float[] data = new float[32 * LEN];
    for (int b = 0; b < 32; b++) {
      double level = rng.nextBoolean() ? 0.25 : 0.75;
      for (int j = 0; j < LEN; j++) {
        data[b * LEN + j] = (float) (level + 0.03 * rng.nextGaussian());
      }
    }
    return new FloatArray(new long[] {32, LEN, 1}, data);
  }

  /** Trains 400 steps on the mixture; the loss falls to {@code maxFall} of its start and samples sit at the modes. */
  static void checkMixture(ModelConfig config, String sampler, int steps, double maxFall) {
    checkMixture(config, sampler, steps, 0.0, maxFall);
  }

  /** As above, sampled at {@code eta}. */
  static void checkMixture(ModelConfig config, String sampler, int steps, double eta, double maxFall) {
    checkMixture(config, sampler, steps, eta, maxFall, 400, 2e-3);
  }

  /** Samples drawn to judge a toy: enough that the bounds below say something (see MODE_RATE). */
  static final int SAMPLES = 256;
  /**
   * What "learnt" means here, as the null hypotheses of the sample checks: each sequence lands
   * within 0.08 of a mode with probability at least MODE_RATE, and at the high mode with
   * probability in HIGH_SHARE (a few hundred steps learn the modes, their weights less well). An
   * untrained or collapsed model fails: its samples sit at no mode, or all at one.
   */
  static final double MODE_RATE = 0.8;
  static final double[] HIGH_SHARE = {0.25, 0.75};

  /** As above, trained for {@code trainSteps} at learning rate {@code lr}. */
  static void checkMixture(ModelConfig config, String sampler, int steps, double eta, double maxFall, int trainSteps,
      double lr) {
    int len = LEN;
    SplittableRandom rng = new SplittableRandom(7);
    try (DiffusionModel model = DiffusionModel.create(config, 1)) {
      TrainStep step = new TrainStep(model, new TrainStep.Options(Adam.Options.defaults(), 1.0, 1));
      float first = 0;
      float last = 0;
      for (int i = 0; i < trainSteps; i++) {
        float loss = step.run(mixture(rng), 11, i, lr, i < 20 || i >= trainSteps - 20);
        if (i < 20) {
          first += loss / 20;
        } else if (i >= trainSteps - 20) {
          last += loss / 20;
        }
      }
      assertTrue(last < maxFall * first, "loss fell from " + first + " to " + last);

      FloatArray noise = model.sampler().initialNoise(SAMPLES, 3);
      FloatArray s = model.sampler().sample(Settings.of(model.sampler().denoiser(), Solvers.named(sampler), steps,
          null, eta, null, 3), noise, null);
      int nearMode = 0;
      int high = 0;
      for (int b = 0; b < SAMPLES; b++) {
        double m = 0;
        for (int j = 0; j < len; j++) {
          m += s.data()[b * len + j] / len;
        }
        nearMode += Math.abs(m - 0.25) < 0.08 || Math.abs(m - 0.75) < 0.08 ? 1 : 0;
        high += m > 0.5 ? 1 : 0;
      }
      Statistical.assertRateAtLeast(nearMode, SAMPLES, MODE_RATE, "sequences whose mean sits within 0.08 of a mode");
      Statistical.assertRateWithin(high, SAMPLES, HIGH_SHARE[0], HIGH_SHARE[1], "sequences at the high mode");
    }
  }

  /** 8x8 grey images holding one full-length bar, horizontal or vertical, at a random position. */
  @Test
  void gaussian2dLearnsRandomBars() {
    checkBars(new ModelConfig(
        UnetConfig.builder(16).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(2)).attnDimHead(List.of(8)).build(),
        GaussianDiffusionConfig.builder(8, 8).timesteps(100).build()), "ddim", 25);
  }

  /** The same toy under EDM, with DPM-Solver++. */
  @Test
  void elucidated2dLearnsRandomBars() {
    checkBars(new ModelConfig(
        UnetConfig.builder(16).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(2)).attnDimHead(List.of(8)).learnedSinusoidalCond(true).build(),
        ElucidatedDiffusionConfig.builder(8, 8).channels(1).build()), "dpmpp_2m", 16);
  }

  static final int BAR_SAMPLES = 128;
  /** H0 of the bar checks: a learnt toy draws a clean bar with probability at least this. */
  static final double BAR_RATE = 0.7;

  static void checkBars(ModelConfig config, String sampler, int steps) {
    int size = 8;
    SplittableRandom rng = new SplittableRandom(5);
    try (DiffusionModel model = DiffusionModel.create(config, 2)) {
      TrainStep step = new TrainStep(model, new TrainStep.Options(Adam.Options.defaults(), 1.0, 1));
      for (int i = 0; i < 400; i++) {
        step.run(bars(rng, 32, size), 13, i, 2e-3, false);
      }
      FloatArray noise = model.sampler().initialNoise(BAR_SAMPLES, 4);
      FloatArray s = model.sampler().sample(Settings.of(model.sampler().denoiser(), Solvers.named(sampler), steps,
          null, 0.0, null, 4), noise, null);
      int clean = 0;
      int barLike = 0;
      int pixels = size * size;
      for (int b = 0; b < BAR_SAMPLES; b++) {
        int binary = 0;
        for (int i = b * pixels; i < (b + 1) * pixels; i++) {
          binary += s.data()[i] < 0.2 || s.data()[i] > 0.8 ? 1 : 0;
        }
        clean += binary >= 0.9 * pixels ? 1 : 0;
        barLike += maxLineMean(s.data(), b, size) > 0.7 ? 1 : 0;
      }
      // data: every pixel 0 or 1, one full line lit
      Statistical.assertRateAtLeast(clean, BAR_SAMPLES, BAR_RATE, "samples with 90% of their pixels near 0 or 1");
      Statistical.assertRateAtLeast(barLike, BAR_SAMPLES, BAR_RATE, "samples holding a bar (a line brighter than 0.7)");
    }
  }

  static FloatArray bars(SplittableRandom rng, int n, int size) {
    float[] d = new float[n * size * size];
    for (int b = 0; b < n; b++) {
      boolean horizontal = rng.nextBoolean();
      int at = rng.nextInt(size);
      for (int k = 0; k < size; k++) {
        int y = horizontal ? at : k;
        int x = horizontal ? k : at;
        d[(b * size + y) * size + x] = 1;
      }
    }
    return new FloatArray(new long[] {n, size, size, 1}, d);
  }

  /** The brightest row or column mean of image b. */
  static double maxLineMean(float[] d, int b, int size) {
    double best = 0;
    for (int i = 0; i < size; i++) {
      double row = 0;
      double col = 0;
      for (int k = 0; k < size; k++) {
        row += d[(b * size + i) * size + k] / size;
        col += d[(b * size + k) * size + i] / size;
      }
      best = Math.max(best, Math.max(row, col));
    }
    return best;
  }
}
