package io.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.data.ArrayDataset;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.io.Safetensors;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.train.posthoc.PowerFunction;
import io.diffusion4j.train.posthoc.Snapshots;
import io.diffusion4j.train.posthoc.Snapshots.Snapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped and resumed ends exactly where an uninterrupted run ends, post-hoc EMA snapshots
 * included; a new run never overwrites one.
 */
class TrainerResumeTest {
  static final ModelConfig CONFIG = new ModelConfig(
      UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(8)).selfCondition(true).build(),
      GaussianDiffusionConfig.builder(8, 8).timesteps(50).samplingTimesteps(5).build());

  /** Random bars in memory: 40 examples of 8x8x1. */
  static Dataset bars() {
    return new ArrayDataset(ToyTrainingTest.bars(new SplittableRandom(1), 40, 8), "40 random bars");
  }

  static TrainerOptions options(long steps) {
    return TrainerOptions.builder().trainBatchSize(4).gradientAccumulateEvery(2).trainLr(1e-3).trainNumSteps(steps)
        .saveAndSampleEvery(4).numSamples(4).emaUpdateEvery(1).seed(21).logEvery(2)
        .postHocEma(true).snapshotEvery(2).build();
  }

  static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

  @Test
  void resumedRunEqualsUninterruptedRunAndNoRunIsOverwritten(@TempDir Path dir) throws IOException {
    Path whole = dir.resolve("whole");
    try (Trainer t = Trainer.create(CONFIG, bars(), options(8), whole)) {
      t.log(QUIET).train();
    }
    Path split = dir.resolve("split");
    try (Trainer t = Trainer.create(CONFIG, bars(), options(4), split)) {
      t.log(QUIET).train();
    }
    // a snapshot past the checkpoint, left by an interrupted run, does not survive the resumed one
    Snapshots.write(split, 0.05, PowerFunction.gamma(0.05), 7, Safetensors.read(Snapshots.file(split, 0.05, 4)));
    try (Trainer t = Trainer.resume(split, bars(), 8L)) {
      assertEquals(4, t.startStep());
      t.log(QUIET).train();
    }
    for (String file : List.of("model.safetensors", "ema.safetensors", "config.json", "sample-8.png")) {
      assertArrayEquals(Files.readAllBytes(whole.resolve(file)), Files.readAllBytes(split.resolve(file)), file);
    }
    assertEquals(losses(whole), losses(split));
    // the power-function EMAs are in the checkpoint: the snapshots are the uninterrupted run's, bit for bit
    List<Snapshot> expected = Snapshots.list(whole);
    List<Snapshot> got = Snapshots.list(split);
    assertEquals(8, expected.size());
    assertEquals(expected.stream().map(x -> x.file().getFileName()).toList(),
        got.stream().map(x -> x.file().getFileName()).toList());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(Files.readAllBytes(expected.get(i).file()), Files.readAllBytes(got.get(i).file()),
          expected.get(i).file().getFileName().toString());
    }
    assertEquals(8, Checkpoints.read(split).step());
    var e = assertThrows(IllegalArgumentException.class, () -> Trainer.create(CONFIG, bars(), options(8), whole));
    assertTrue(e.getMessage().contains("already holds a training run"), e.getMessage());
  }

  static List<String> losses(Path folder) throws IOException {
    return Files.readAllLines(folder.resolve(Trainer.METRICS)).stream()
        .map(l -> l.replaceAll(",\"time\".*", "")).toList();
  }
}
