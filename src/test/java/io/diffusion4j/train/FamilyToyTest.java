package io.diffusion4j.train;

import io.diffusion4j.diffusion.ContinuousTimeConfig;
import io.diffusion4j.diffusion.ContinuousTimeConfig.Kind;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.diffusion.GaussianDiffusionConfig.Module;
import io.diffusion4j.diffusion.Objective;
import io.diffusion4j.diffusion.XmWrapper;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.ModelConfig;
import org.junit.jupiter.api.Test;
import java.util.List;

/**
 * The rest of the diffusion family on ToyTrainingTest's two-level mixture of sequences: each
 * type's training brings its samples to the modes, through its own sampler or the catalogue's.
 */
class FamilyToyTest {
  static final int LEN = ToyTrainingTest.LEN;
  /** The Gaussian toys' steps and rate (ToyTrainingTest's null hypotheses say what they must learn). */
  static final int STEPS = 400;
  static final double LR = 2e-3;
  /** For the types that learn the toy in half the steps at twice the rate (the suite's time). */
  static final int FEW_STEPS = 200;
  static final double FAST_LR = 4e-3;

  private static UnetConfig.Builder unet() {
    return UnetConfig.builder1d(16).dimMults(List.of(1, 2)).channels(1);
  }

  @Test
  void continuousTimeWithLearnedSchedule() {
    ToyTrainingTest.checkMixture(new ModelConfig(unet().learnedSinusoidalCond(true).build(),
        ContinuousTimeConfig.builder(Kind.CONTINUOUS_TIME, LEN).channels(1)
            .noiseSchedule(ContinuousTimeConfig.Schedule.LEARNED).learnedScheduleNetHiddenDim(32).build()),
        "ddpm", 25, 1.0, 0.7, STEPS, LR);
  }

  @Test
  void vParamContinuousTime() {
    ToyTrainingTest.checkMixture(new ModelConfig(unet().learnedSinusoidalCond(true).build(),
        ContinuousTimeConfig.builder(Kind.V_PARAM, LEN).channels(1).build()),
        "ddpm", 25, 1.0, 0.7, FEW_STEPS, FAST_LR);
  }

  /** eps on the shifted cosine, sampled by a solver of the catalogue. */
  @Test
  void simpleDiffusion() {
    ToyTrainingTest.checkMixture(new ModelConfig(unet().learnedSinusoidalCond(true).build(),
        ContinuousTimeConfig.builder(Kind.SIMPLE, LEN).channels(1).predObjective(ContinuousTimeConfig.PredObjective.EPS)
            .noiseD(8.0).build()), "dpmpp_2m", 16, 0.0, 0.7, FEW_STEPS, FAST_LR);
  }

  /** DDPM with the learned variance. */
  @Test
  void learnedVariance() {
    ToyTrainingTest.checkMixture(new ModelConfig(unet().learnedVariance(true).build(),
        GaussianDiffusionConfig.builder(Module.LEARNED, LEN).objective(Objective.PRED_NOISE).timesteps(100).build()),
        "ddpm", 100, 1.0, 0.7, STEPS, LR);
  }

  @Test
  void weightedObjective() {
    ToyTrainingTest.checkMixture(new ModelConfig(unet().outDim(4).build(),
        GaussianDiffusionConfig.builder(Module.WEIGHTED, LEN).timesteps(100).build()),
        "ddim", 25, 0.0, 0.7, FEW_STEPS, FAST_LR);
  }

  @Test
  void xmWrapper() {
    ToyTrainingTest.checkMixture(new ModelConfig(unet().build(),
        GaussianDiffusionConfig.builder1d(LEN).timesteps(100).build(), new XmWrapper(2, null)), "ddim", 25, 0.0, 0.7, FEW_STEPS, FAST_LR);
  }
}
