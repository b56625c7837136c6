package io.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.data.ArrayDataset;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** calculate_fid and save_best_and_latest_only on a tiny 28x28 run, scored by the built-in classifier. */
class TrainerFidTest {
  static final ModelConfig CONFIG = new ModelConfig(
      UnetConfig.builder(4).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(4)).build(),
      GaussianDiffusionConfig.builder(28, 28).timesteps(10).samplingTimesteps(2).build());

  static Dataset bars() {
    return new ArrayDataset(ToyTrainingTest.bars(new SplittableRandom(3), 32, 28), "32 bars");
  }

  static TrainerOptions.Builder options(long steps) {
    return TrainerOptions.builder().trainBatchSize(4).trainLr(2e-3).trainNumSteps(steps).saveAndSampleEvery(2)
        .numSamples(4).emaUpdateEvery(1).emaDecay(0.5).seed(5).logEvery(2).calculateFid(true).numFidSamples(8);
  }

  static List<JsonObject> fdLines(Path folder) throws IOException {
    return Files.readAllLines(folder.resolve(Trainer.METRICS)).stream()
        .map(l -> JsonParser.parseString(l).getAsJsonObject()).filter(j -> j.has("fd")).toList();
  }

  /**
   * A run keeps exactly the latest checkpoint and the one of the lowest logged FD; a run stopped
   * and resumed scores, and keeps its best, exactly as the uninterrupted one.
   */
  @Test
  void keepsTheLatestAndTheBestCheckpointAndResumesExactly(@TempDir Path dir) throws IOException {
    Path whole = dir.resolve("whole");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try (Trainer t = Trainer.create(CONFIG, bars(), options(6).saveBestAndLatestOnly(true).build(), whole)) {
      t.log(new PrintStream(log, true, StandardCharsets.UTF_8)).train();
    }
    try (Stream<Path> files = Files.list(whole)) {
      assertEquals(List.of("checkpoint-000000006", "checkpoint-best"), files.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("checkpoint-")).sorted().toList());
    }
    List<JsonObject> fd = fdLines(whole);
    assertEquals(List.of(2L, 4L, 6L), fd.stream().map(j -> j.get("step").getAsLong()).toList());
    for (JsonObject line : fd) {
      assertEquals("fashion-mnist-classifier-v1", line.get("network").getAsString());
      assertEquals(8, line.get("num_samples").getAsInt());
      assertFalse(line.has("fid"), line.toString());
    }
    JsonObject lowest = fd.stream().min((a, b) -> Double.compare(a.get("fd").getAsDouble(), b.get("fd").getAsDouble()))
        .orElseThrow();
    Checkpoints.Best best = Checkpoints.best(whole).orElseThrow();
    assertEquals(lowest.get("step").getAsLong(), best.step());
    assertEquals(lowest.get("fd").getAsDouble(), best.fd());
    String progress = log.toString(StandardCharsets.UTF_8);
    assertTrue(progress.contains("fd[fashion-mnist-classifier-v1]"), progress);
    assertTrue(Files.isRegularFile(whole.resolve("fid-stats-fashion-mnist-classifier-v1.safetensors")));
    // the best checkpoint is a model folder too
    try (DiffusionModel m = DiffusionModel.load(whole.resolve(Checkpoints.BEST), DiffusionModel.Weights.PREFER_EMA)) {
      assertEquals(1, m.network().channels());
    }

    Path split = dir.resolve("split");
    try (Trainer t = Trainer.create(CONFIG, bars(), options(4).saveBestAndLatestOnly(true).build(), split)) {
      t.log(TrainerResumeTest.QUIET).train();
    }
    try (Trainer t = Trainer.resume(split, bars(), 6L)) {
      t.log(TrainerResumeTest.QUIET).train();
    }
    assertEquals(fd, fdLines(split));
    assertEquals(best, Checkpoints.best(split).orElseThrow());
    assertArrayEquals(Files.readAllBytes(whole.resolve("checkpoint-best/ema.safetensors")),
        Files.readAllBytes(split.resolve("checkpoint-best/ema.safetensors")));
  }

  @Test
  void refusesWhatCannotBeScored(@TempDir Path dir) {
    var noFid = assertThrows(IllegalArgumentException.class,
        () -> options(2).calculateFid(false).saveBestAndLatestOnly(true).build());
    assertTrue(noFid.getMessage().contains("save_best_and_latest_only = true needs calculate_fid = true"),
        noFid.getMessage());
    ModelConfig small = new ModelConfig(CONFIG.network(), GaussianDiffusionConfig.builder(8, 8).timesteps(10).build());
    Dataset eight = TrainerResumeTest.bars();
    Path folder = dir.resolve("run");
    var noNetwork = assertThrows(IllegalArgumentException.class,
        () -> Trainer.create(small, eight, options(2).build(), folder));
    assertTrue(noNetwork.getMessage().contains("no feature network for [8, 8, 1] images"), noNetwork.getMessage());
    var layer = assertThrows(IllegalArgumentException.class,
        () -> Trainer.create(CONFIG, bars(), options(2).inceptionBlockIdx(2048).build(), folder));
    assertTrue(layer.getMessage().contains("inception_block_idx = 2048"), layer.getMessage());
    assertFalse(Files.exists(folder));
  }
}
