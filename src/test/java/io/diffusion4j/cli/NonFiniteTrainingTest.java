package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run whose loss stops being finite (here: a learning rate of 1e4) never fails silently: by
 * default it ends with one line naming the step and the last good checkpoint, from which a resume
 * at a lower learning rate goes on; with --nonfinite skip it finishes, counting what it skipped.
 * metrics.jsonl stays JSON throughout.
 */
class NonFiniteTrainingTest {
  @TempDir
  static Path dir;
  static Path npy;
  static Path config;

  @BeforeAll
  static void data() throws IOException {
    TinyRun tiny = TinyRun.in(dir, 16);
    npy = tiny.data();
    config = tiny.config();
  }

  private static CliRun train(Path out, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("train", "--data", npy.toString(), "--config",
        config.toString(), "--out", out.toString(), "--batch-size", "4", "--save-and-sample-every", "4",
        "--num-samples", "1", "--log-every", "2"));
    args.addAll(List.of(more));
    return CliRun.of(args.toArray(String[]::new));
  }

  @Test
  void divergenceStopsWithOneLineAndResumesFromTheLastGoodCheckpoint() throws IOException {
    Path out = dir.resolve("stop");
    CliRun good = train(out, "--steps", "4", "--lr", "1e-3");
    assertEquals(0, good.code(), good.err());

    StringBuilder log = new StringBuilder();
    CliRun diverged = logged(log, () -> train(out, "--resume", "--steps", "40", "--lr", "1e4"));
    diverged.assertOneClearLine(1, "had a non-finite loss or gradient (NaN or infinite), so the run stopped");
    assertTrue(diverged.err().matches("(?s).*step \\d+ had a non-finite.*last good checkpoint is \\S*checkpoint-0+4"
        + " \\(step 4\\): go on from it with --resume and a lower --lr.*"), diverged.err());
    assertTrue(log.toString().contains("resume: the learning rate at step 4 is now 1.00e+04, not 0.00100 (--lr"),
        log.toString());
    assertMetricsAreJson(out);

    CliRun resumed = train(out, "--resume", "--steps", "8", "--lr", "1e-3");
    assertEquals(0, resumed.code(), resumed.err());
    assertFinite(out.resolve("model.safetensors"));
  }

  @Test
  void skipFinishesCountingTheSkippedSteps() throws IOException {
    Path out = dir.resolve("skip");
    StringBuilder log = new StringBuilder();
    CliRun run = logged(log, () -> train(out, "--steps", "12", "--lr", "1e4", "--nonfinite", "skip"));
    assertEquals(0, run.code(), run.err());
    List<JsonObject> metrics = assertMetricsAreJson(out);
    long skipped = metrics.get(metrics.size() - 1).get("skipped_steps").getAsLong();
    assertTrue(skipped > 0 && skipped < 12, "skipped " + skipped + " of 12: " + metrics);
    assertTrue(log.toString().contains("skipped " + skipped), log.toString());
    assertTrue(log.toString().contains("options that differ from the reference's defaults: train_batch_size=4,"
        + " train_lr=10000.0, train_num_steps=12, save_and_sample_every=4, num_samples=1, log_every=2, nonfinite=skip"),
        log.toString());
    assertFinite(out.resolve("model.safetensors"));
    assertFinite(out.resolve("ema.safetensors"));

    CliRun bad = train(dir.resolve("bad"), "--steps", "2", "--nonfinite", "maybe");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("\"maybe\" is not allowed: expected stop or skip"), bad.err());
  }

  /** Runs {@code run} with standard error, where the trainer reports, copied into {@code log}. */
  private static CliRun logged(StringBuilder log, java.util.function.Supplier<CliRun> run) {
    java.io.PrintStream was = System.err;
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      return run.get();
    } finally {
      System.setErr(was);
      log.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  private static List<JsonObject> assertMetricsAreJson(Path out) throws IOException {
    List<JsonObject> lines = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
      assertTrue(!line.contains("NaN") && !line.contains("Infinity"), line);
      lines.add(JsonParser.parseString(line).getAsJsonObject());
    }
    return lines;
  }

  private static void assertFinite(Path weights) throws IOException {
    for (var e : Safetensors.read(weights).entrySet()) {
      for (float v : e.getValue().data()) {
        assertTrue(Float.isFinite(v), e.getKey() + " holds " + v);
      }
    }
  }
}
