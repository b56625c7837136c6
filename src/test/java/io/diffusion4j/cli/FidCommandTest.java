package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.data.IdxDataset;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fid} prints one JSON line naming the network, or one clear error. */
class FidCommandTest {
  @TempDir
  static Path dir;
  static Path real;
  static Path data;

  /** 300 embedded images as the samples, 300 others as the data. */
  @BeforeAll
  static void writeImages() throws IOException {
    IdxDataset embedded = EmbeddedDefault.dataset();
    real = dir.resolve("samples/real.npy");
    Files.createDirectories(real.getParent());
    Npy.write(real, embedded.examples(IntStream.range(0, 300).toArray()));
    data = dir.resolve("data.npy");
    Npy.write(data, embedded.examples(IntStream.range(3000, 3300).toArray()));
  }

  static JsonObject json(CliRun run) {
    assertEquals(0, run.code(), run.err());
    String[] lines = run.out().strip().split("\n");
    assertEquals(1, lines.length, run.out());
    return JsonParser.parseString(lines[0]).getAsJsonObject();
  }

  @Test
  void scoresSamplesAndNamesTheNetwork() throws IOException {
    Path stats = dir.resolve("stats");
    JsonObject line = json(CliRun.of("fid", "--samples", real.toString(), "--data", data.toString(),
        "--kid-subsets", "10", "--stats-dir", stats.toString()));
    assertEquals("fashion-mnist-classifier-v1", line.get("network").getAsString());
    assertEquals(300, line.get("num_samples").getAsInt());
    assertEquals(300, line.get("num_data").getAsInt());
    assertEquals(128, line.get("feature_dim").getAsInt());
    assertFalse(line.has("fid"), "never a bare fid: " + line);
    double realFd = line.get("fd").getAsDouble();
    assertTrue(line.has("kid") && line.has("kid_std"), line.toString());
    List<Path> cached;
    try (var files = Files.list(stats)) {
      cached = files.toList();
    }
    assertEquals(1, cached.size(), cached.toString());
    Path cache = cached.get(0);
    assertTrue(cache.getFileName().toString().matches("fid-stats-fashion-mnist-classifier-v1-[0-9a-f]{16}\\.safetensors"),
        "named by network and key: " + cache);
    try (var beside = Files.list(real.getParent())) {
      assertEquals(List.of(real), beside.toList(), "nothing is written beside the samples");
    }

    Path noise = dir.resolve("samples/noise.npy");
    FloatArray n = FloatArray.zeros(300, 28, 28, 1);
    Random r = new Random(1);
    for (int i = 0; i < n.data().length; i++) {
      n.data()[i] = r.nextFloat();
    }
    Npy.write(noise, n);
    CliRun noiseRun = CliRun.of("fid", "--samples", noise.toString(), "--data", data.toString(), "--kid-subsets", "10",
        "--stats-dir", stats.toString());
    assertTrue(noiseRun.err().contains("from " + cache), "the cache is used: " + noiseRun.err());
    JsonObject noiseLine = json(noiseRun);
    assertTrue(noiseLine.get("fd").getAsDouble() > 10 * realFd, realFd + " vs " + noiseLine);
    assertTrue(noiseLine.get("kid").getAsDouble() > line.get("kid").getAsDouble(), line + " vs " + noiseLine);
  }

  @Test
  void drawsSamplesFromAModelFolder() throws IOException {
    Path model = dir.resolve("model");
    ModelConfig config = new ModelConfig(
        UnetConfig.builder(4).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(4)).build(),
        GaussianDiffusionConfig.builder(28, 28).timesteps(10).samplingTimesteps(2).build());
    try (DiffusionModel m = DiffusionModel.create(config, 3)) {
      m.save(model);
    }
    List<String> before;
    try (var files = Files.list(model)) {
      before = files.map(p -> p.getFileName().toString()).sorted().toList();
    }
    Path stats = dir.resolve("model-stats");
    CliRun run = CliRun.of("fid", "--model", model.toString(), "--data", data.toString(), "--num", "6",
        "--batch-size", "4", "--kid-subsets", "2", "--stats-dir", stats.toString());
    JsonObject line = json(run);
    assertEquals(6, line.get("num_samples").getAsInt());
    assertTrue(run.err().contains("warning: the covariance of 6 samples is singular"), run.err());
    try (var files = Files.list(model)) {
      assertEquals(before, files.map(p -> p.getFileName().toString()).sorted().toList(), "the model folder is untouched");
    }
    try (var files = Files.list(stats)) {
      assertEquals(1, files.count());
    }
  }

  @Test
  void badInputEndsWithOneClearLine() throws IOException {
    Path small = dir.resolve("small.npy");
    Npy.write(small, FloatArray.zeros(4, 8, 8, 1));
    assertFails(CliRun.of("fid", "--samples", small.toString(), "--data", data.toString()), 1,
        "the samples are [8, 8, 1] but the data's examples are [28, 28, 1]");
    assertFails(CliRun.of("fid", "--samples", real.toString(), "--data", data.toString(), "--network",
        dir.resolve("nothing.pb").toString()), 1, "nothing.pb does not exist");
    assertFails(CliRun.of("fid", "--samples", real.toString(), "--model", dir.toString()), 2, "mutually exclusive");
    assertFails(CliRun.of("fid", "--samples", real.toString(), "--num", "1"), 2, "--num and --num-data must be at least 2");
    Path rgb = dir.resolve("rgb.npy");
    Npy.write(rgb, FloatArray.zeros(4, 28, 28, 3));
    assertFails(CliRun.of("fid", "--samples", rgb.toString(), "--data", rgb.toString()), 1,
        "no feature network for [28, 28, 3] images");
  }

  private static void assertFails(CliRun run, int code, String expected) {
    assertEquals(code, run.code(), run.err());
    assertTrue(run.err().contains(expected), run.err());
    assertTrue(run.err().startsWith("diffusion4j: "), run.err());
    assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    assertEquals("", run.out());
  }
}
