package io.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Close;
import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.KarrasUnetConfig;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** The in-graph loop gives what the session loop gives, for every sampler and conditioning. */
class LoopSamplerTest {
  private static final long SEED = 11;

  /** Self-conditioned Unet under Gaussian diffusion with noisy DDIM (eta 0.5). */
  private static final ModelConfig GAUSSIAN = new ModelConfig(
      UnetConfig.builder(8).dimMults(1, 2).channels(2).selfCondition(true).attnHeads(1).attnDimHead(8).build(),
      GaussianDiffusionConfig.builder(8, 8).timesteps(12).samplingTimesteps(4).ddimSamplingEta(0.5).build());

  /** Class-conditional Karras Unet under EDM, with churn over the whole range. */
  private static final ModelConfig KARRAS = new ModelConfig(
      KarrasUnetConfig.builder(8).dim(8).dimMax(16).channels(1).numClasses(3).numDownsamples(1)
          .numBlocksPerStage(1).attnRes(4).build(),
      ElucidatedDiffusionConfig.builder(8, 8).channels(1).numSampleSteps(4).sChurn(10).sTmin(0).sTmax(1000).build());

  /** Self-conditioned Unet (learned sinusoidal time) under EDM. */
  private static final ModelConfig EDM_SELF_COND = new ModelConfig(
      UnetConfig.builder(8).dimMults(1, 2).channels(1).selfCondition(true).learnedSinusoidalCond(true)
          .attnHeads(1).attnDimHead(8).build(),
      ElucidatedDiffusionConfig.builder(8, 8).channels(1).numSampleSteps(3).build());

  @Test
  void gaussianSamplersMatchTheSessionLoop() {
    agree(GAUSSIAN, Sampler.DDPM, 12, null);
    agree(GAUSSIAN, Sampler.DDIM, 4, null);
    agree(GAUSSIAN, Sampler.DDIM, 7, null);
  }

  @Test
  void edmSamplersMatchTheSessionLoopWithClassLabels() {
    long[] labels = {2, 0};
    agree(KARRAS, Sampler.HEUN, 4, labels);
    agree(KARRAS, Sampler.HEUN, 1, labels);
    agree(KARRAS, Sampler.EULER, 3, labels);
    agree(KARRAS, Sampler.DPMPP, 3, labels);
  }

  @Test
  void edmSamplersMatchTheSessionLoopWithSelfConditioning() {
    agree(EDM_SELF_COND, Sampler.HEUN, 3, null);
    agree(EDM_SELF_COND, Sampler.DPMPP, 3, null);
  }

  @Test
  void badStepsAndSamplersAreRefused() {
    try (DiffusionModel m = DiffusionModel.create(KARRAS, 3)) {
      var e = assertThrows(IllegalArgumentException.class,
          () -> new LoopSampler(m.sampler(), Sampler.DDIM, KARRAS.network()));
      assertTrue(e.getMessage().contains("heun, euler or dpmpp"), e.getMessage());
      LoopSampler loop = new LoopSampler(m.sampler(), Sampler.HEUN, KARRAS.network());
      Ops tf = m.ops();
      Operand<TFloat32> images = loop.sample(tf, m.network(), tf.constant(SEED), tf.constant(1),
          tf.constant(loop.maxSteps() + 1), tf.constant(new long[] {0}));
      var run = assertThrows(RuntimeException.class, () -> m.session().runner().fetch(images).run().close());
      assertTrue(run.getMessage().contains("steps must be in [1, " + loop.maxSteps() + "]"), run.getMessage());
    }
  }

  private static void agree(ModelConfig config, Sampler sampler, int steps, long[] labels) {
    int num = 2;
    try (DiffusionModel m = DiffusionModel.create(config, 5)) {
      DiffusionSampler session = m.sampler();
      double eta = config.diffusion() instanceof GaussianDiffusionConfig g ? g.ddimSamplingEta() : 0;
      FloatArray expected = session.sample(sampler, session.initialNoise(num, SEED), SEED, steps, eta, labels, null);
      LoopSampler loop = new LoopSampler(session, sampler, config.network());
      Ops tf = m.ops();
      Operand<TFloat32> images = loop.sample(tf, m.network(), tf.constant(SEED), tf.constant(num),
          loop.takesSteps() ? tf.constant(steps) : null, labels == null ? null : tf.constant(labels));
      try (Result r = m.session().runner().fetch(images).run()) {
        FloatArray actual = Tensors.toArray((TFloat32) r.get(0));
        assertArrayEquals(expected.shape(), actual.shape());
        // the loop and the session graph fuse ops differently: float32 round-off only
        Close.assertClose(expected.data(), actual.data(), 1e-4);
      }
    }
  }
}
