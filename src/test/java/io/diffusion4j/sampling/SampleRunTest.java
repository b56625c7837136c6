package io.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.exceptions.TFResourceExhaustedException;

class SampleRunTest {
  private static final Settings SETTINGS = new Settings(Solvers.named("ddim"), 1, Schedule.OWN, 0, 1,
      Settings.Churn.NONE, true, null, 3);

  /** A sampler that returns its noise as the images, or runs out of memory above a batch size. */
  private static final class Echo implements DiffusionSampler {
    final int fits;
    final List<long[]> calls = new ArrayList<>();

    Echo(int fits) {
      this.fits = fits;
    }

    @Override
    public Denoiser denoiser() {
      return null;
    }

    @Override
    public FloatArray initialNoise(long first, int num, long seed) {
      float[] v = new float[num];
      for (int i = 0; i < num; i++) {
        v[i] = first + i;
      }
      return new FloatArray(new long[] {num, 1}, v);
    }

    @Override
    public FloatArray sample(Settings settings, FloatArray noise, long first, long[] classLabels) {
      calls.add(new long[] {first, noise.shape()[0]});
      if (noise.shape()[0] > fits) {
        throw new TFResourceExhaustedException("OOM when allocating tensor with shape[...]");
      }
      return noise;
    }
  }

  @Test
  void runsInBatchesThatKnowTheirFirstImage() throws Exception {
    Echo s = new Echo(100);
    List<Float> seen = new ArrayList<>();
    SampleRun.run(s, SETTINGS, 7, 3, null, null, (first, images) -> {
      assertEquals(first, (long) images.data()[0]);
      for (float v : images.data()) {
        seen.add(v);
      }
    });
    assertEquals(List.of(0f, 1f, 2f, 3f, 4f, 5f, 6f), seen);
    assertEquals(List.of("0+3", "3+3", "6+1"), s.calls.stream().map(c -> c[0] + "+" + c[1]).toList());
  }

  @Test
  void aBatchTooLargeForMemorySaysWhichOptionLowersIt() {
    var e = assertThrows(SampleRun.OutOfMemory.class, () -> SampleRun.run(new Echo(10),
        SETTINGS, 64, 64, null, null, (first, images) -> {}));
    assertEquals(64, e.batch());
    assertTrue(e.getMessage().contains("a batch of 64 images: lower the batch size (--batch-size 16"), e.getMessage());
  }

  /** The default batch fits the activation budget, from the network's own graph. */
  @Test
  void defaultBatchFitsTheBudget() {
    UnetConfig net = UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(8)).build();
    long small = SampleRun.activationBytes(net, new long[] {8, 8, 1});
    long large = SampleRun.activationBytes(net, new long[] {16, 16, 1});
    // four times the pixels, four times the activations (and a little more: full attention grows as their square)
    double ratio = (double) large / small;
    assertTrue(ratio >= 4 && ratio < 4.5, "ratio " + ratio);
    int batch = SampleRun.defaultBatchSize(net, new long[] {16, 16, 1});
    assertTrue(batch * large <= SampleRun.ACTIVATION_BUDGET && (batch + 1) * large > SampleRun.ACTIVATION_BUDGET
        || batch == SampleRun.MAX_DEFAULT_BATCH, batch + " images of " + large + " bytes");
  }
}
