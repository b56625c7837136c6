package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Safetensors;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.train.posthoc.PowerFunction;
import io.diffusion4j.train.posthoc.Snapshots;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ema} on a model folder whose snapshots are written directly (no training): it writes
 * the combination and keeps the trainer's EMA; bad input ends with one clear line.
 */
class EmaCommandTest {

  @TempDir
  static Path dir;

  /** Weights every snapshot holds, so that any combination of coefficients summing to 1 gives them back. */
  private static Map<String, FloatArray> weights;

  @BeforeAll
  static void folders() throws IOException {
    ModelConfig config = new ModelConfig(
        UnetConfig.builder(4).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(4)).build(),
        GaussianDiffusionConfig.builder(8, 8).timesteps(10).samplingTimesteps(2).build());
    for (String name : List.of("run", "plain")) {
      try (DiffusionModel m = DiffusionModel.create(config, 1, true)) {
        m.save(dir.resolve(name));
        weights = m.weights();
      }
    }
    for (double s : new double[] {0.05, 0.10}) {
      for (long step = 10; step <= 40; step += 10) {
        Snapshots.write(dir.resolve("run"), s, PowerFunction.gamma(s), step, weights);
      }
    }
    Files.writeString(dir.resolve("a-file"), "x");
  }

  @Test
  void writesTheCombinationAndKeepsTheTrainersEma() throws IOException {
    Path run = dir.resolve("run");
    byte[] trainers = Files.readAllBytes(run.resolve(DiffusionModel.EMA_WEIGHTS));
    CliRun first = CliRun.of("ema", "--model", run.toString(), "--sigma-rel", "0.08");
    assertEquals(0, first.code(), first.err());
    String line = first.out().strip();
    System.out.println(line);
    assertEquals(1, line.lines().count(), line);
    assertTrue(line.startsWith("combined 8 snapshots into the EMA of sigma_rel 0.08 (gamma 9.4523) at step 40:"
        + " coefficients sum to "), line);
    assertTrue(line.contains("the trainer's EMA it replaced is in"), line);
    assertArrayEquals(trainers, Files.readAllBytes(run.resolve(EmaCommand.TRAINER_EMA)));
    assertClose(weights, Safetensors.read(run.resolve(DiffusionModel.EMA_WEIGHTS)));
    Map<String, String> meta = Safetensors.readMetadata(run.resolve(DiffusionModel.EMA_WEIGHTS));
    assertEquals("0.08", meta.get("post_hoc_sigma_rel"));
    assertEquals("40", meta.get("post_hoc_step"));

    // a reconstruction is replaced, the trainer's EMA stays kept
    CliRun second = CliRun.of("ema", "--model", run.toString(), "--sigma-rel", "0.12");
    assertEquals(0, second.code(), second.err());
    assertFalse(second.out().contains("trainer's EMA"), second.out());
    assertArrayEquals(trainers, Files.readAllBytes(run.resolve(EmaCommand.TRAINER_EMA)));

    Path out = dir.resolve("elsewhere/ema-0.2.safetensors");
    CliRun third = CliRun.of("ema", "--model", run.toString(), "--sigma-rel", "0.2", "--out", out.toString());
    assertEquals(0, third.code(), third.err());
    assertClose(weights, Safetensors.read(out));
    assertEquals("0.12", Safetensors.readMetadata(run.resolve(DiffusionModel.EMA_WEIGHTS)).get("post_hoc_sigma_rel"));
  }

  private static void assertClose(Map<String, FloatArray> expected, Map<String, FloatArray> got) {
    assertEquals(expected.keySet(), got.keySet());
    for (String name : expected.keySet()) {
      assertArrayEquals(expected.get(name).shape(), got.get(name).shape(), name);
      float[] e = expected.get(name).data();
      float[] g = got.get(name).data();
      for (int i = 0; i < e.length; i++) {
        assertEquals(e[i], g[i], 1e-6 * (1 + Math.abs(e[i])), name + "[" + i + "]");
      }
    }
  }

  /** Arguments, the exit code, and a fragment the message must hold. */
  record Case(List<String> args, int code, String says) {
    @Override
    public String toString() {
      return String.join(" ", args);
    }
  }

  static Stream<Case> badInput() {
    String run = dir.resolve("run").toString();
    String out = dir.resolve("bad.safetensors").toString();
    return Stream.of(
        new Case(List.of("ema", "--model", dir.resolve("none").toString(), "--sigma-rel", "0.08", "--out", out), 1,
            "--model " + dir.resolve("none") + " does not exist"),
        new Case(List.of("ema", "--model", dir.resolve("a-file").toString(), "--sigma-rel", "0.08", "--out", out), 1,
            "is a file, not a model folder"),
        new Case(List.of("ema", "--model", dir.resolve("plain").toString(), "--sigma-rel", "0.08", "--out", out), 1,
            "has no post-hoc EMA snapshots (post-hoc-ema/ema-*.safetensors): train it with --post-hoc-ema"),
        new Case(List.of("ema", "--model", run, "--sigma-rel", "0.3", "--out", out), 2,
            "--sigma-rel 0.3 must be in (0, 0.288675)"),
        new Case(List.of("ema", "--model", run, "--sigma-rel", "0", "--out", out), 2,
            "--sigma-rel 0.0 must be in (0, 0.288675)"),
        new Case(List.of("ema", "--model", run, "--out", out), 2, "Missing required option: '--sigma-rel=X'"),
        new Case(List.of("train", "--post-hoc-ema", "--sigma-rels", "0.05,0.5", "--out", out), 2,
            "--sigma-rels 0.5 must be in (0, 0.288675)"),
        new Case(List.of("train", "--post-hoc-ema", "--sigma-rels", "0.05,0.05", "--out", out), 2,
            "--sigma-rels [0.05, 0.05] must list at least one value, each once"),
        new Case(List.of("train", "--post-hoc-ema", "--snapshot-every", "0", "--out", out), 2,
            "--snapshot-every 0 must be at least 1"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInput")
  void badInputEndsWithOneClearLine(Case c) {
    CliRun run = CliRun.of(c.args().toArray(String[]::new));
    run.assertOneClearLine(c.code(), c.says());
    assertFalse(Files.exists(dir.resolve("bad.safetensors")), "nothing is written");
  }
}
