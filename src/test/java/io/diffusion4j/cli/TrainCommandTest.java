package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to train ends with one clear line and leaves no partial model folder behind. */
class TrainCommandTest {
  @TempDir
  Path dir;

  private void assertFailsCleanly(CliRun run, int code, String expected, Path out) {
    assertEquals(code, run.code(), run.err());
    assertTrue(run.err().contains(expected), "stderr: " + run.err());
    assertTrue(run.err().startsWith("diffusion4j: "), run.err());
    assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    assertFalse(Files.exists(out), out + " was left behind");
  }

  @Test
  void missingFolder() {
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--data", dir.resolve("nothing").toString(), "--out", out.toString()),
        1, "does not exist", out);
  }

  @Test
  void emptyFolder() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--data", empty.toString(), "--out", out.toString()), 1, "no image", out);
  }

  @Test
  void corruptImageMidTraining() throws IOException {
    Path images = Files.createDirectories(dir.resolve("images"));
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    ImageIO.write(img, "png", images.resolve("a.png").toFile());
    ImageIO.write(img, "png", images.resolve("b.png").toFile());
    Files.write(images.resolve("c.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--data", images.toString(), "--out", out.toString(), "--batch-size", "2",
        "--steps", "6", "--save-and-sample-every", "100"), 1, "c.png", out);
  }

  @Test
  void npyOfTheWrongRank() throws IOException {
    Path npy = dir.resolve("flat.npy");
    Npy.write(npy, FloatArray.zeros(10, 784));
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--data", npy.toString(), "--out", out.toString()), 1, "[10, 784]", out);
  }

  @Test
  void unknownOption() {
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--out", out.toString(), "--learning-rate", "3"), 2,
        "Unknown options: '--learning-rate', '3'", out);
  }

  @Test
  void badOptionValue() {
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--out", out.toString(), "--num-samples", "10"), 2,
        "--num-samples 10 must be a perfect square", out);
  }

  @Test
  void bestCheckpointsNeedScores() {
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--out", out.toString(), "--save-best-and-latest-only"), 2,
        "--save-best-and-latest-only true needs calculate_fid = true", out);
    assertFailsCleanly(CliRun.of("train", "--out", out.toString(), "--calculate-fid", "--fid-network",
        dir.resolve("missing.pb").toString()), 1, "missing.pb does not exist", out);
  }

  /**
   * The command that started a run, given again with --resume, continues it; a conflicting value
   * is refused naming the option, the run's value and the given one. The run's TensorBoard logs
   * hold the contract's tags, and the resumed run marks its restart.
   */
  @Test
  void resumeAcceptsTheSameCommandAndRefusesConflicts() throws IOException {
    TinyRun tiny = TinyRun.in(dir, 8);
    Path npy = tiny.data();
    Path config = tiny.config();
    Path out = dir.resolve("run");
    String[] common = {"train", "--data", npy.toString(), "--config", config.toString(), "--out", out.toString(),
        "--seed", "7", "--batch-size", "2", "--save-and-sample-every", "2", "--num-samples", "1", "--log-every", "1"};
    CliRun first = CliRun.of(concat(common, "--steps", "2"));
    assertEquals(0, first.code(), first.err());
    CliRun again = CliRun.of(concat(common, "--steps", "4", "--resume"));
    assertEquals(0, again.code(), again.err());
    assertTrue(Files.exists(out.resolve("sample-4.png")));

    CliRun seed = CliRun.of("train", "--out", out.toString(), "--resume", "--seed", "8", "--steps", "6");
    assertEquals(2, seed.code(), seed.err());
    assertTrue(seed.err().contains("--seed 8 conflicts with the run's seed = 7"), seed.err());
    CliRun batch = CliRun.of("train", "--out", out.toString(), "--resume", "--batch-size", "3");
    assertTrue(batch.err().contains("--train-batch-size 3 conflicts with the run's train_batch_size = 2"), batch.err());
    Path other = Files.writeString(dir.resolve("other.json"), Files.readString(config).replace("\"dim\": 4", "\"dim\": 8"));
    CliRun cfg = CliRun.of("train", "--out", out.toString(), "--resume", "--config", other.toString());
    assertTrue(cfg.err().contains("differs from the run's") && cfg.err().contains("model.dim (4 there, 8 here)"),
        cfg.err());
    CliRun data = CliRun.of("train", "--out", out.toString(), "--resume", "--data", config.toString());
    assertTrue(data.err().contains("--data " + config.toAbsolutePath() + " conflicts with the run's data, "
        + npy.toAbsolutePath()), data.err());
    for (CliRun r : List.of(seed, batch, cfg, data)) {
      assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    List<List<org.tensorflow.proto.Event>> logs = io.diffusion4j.train.EventFiles.read(out.resolve("logs"));
    assertEquals(2, logs.size(), "one event file per run");
    java.util.Set<String> tags = new java.util.TreeSet<>();
    logs.forEach(events -> events.forEach(e -> e.getSummary().getValueList().forEach(x -> tags.add(x.getTag()))));
    assertEquals(java.util.Set.of("grad_norm", "loss", "lr", "samples", "skipped_steps", "steps_per_s"), tags);
    logs.forEach(events -> events.forEach(e -> e.getSummary().getValueList().forEach(x -> {
      if (x.getTag().equals("skipped_steps")) {
        assertEquals(0, x.getSimpleValue(), "a run with finite losses skips nothing");
      } else if (!x.getTag().equals("samples")) {
        assertTrue(Float.isFinite(x.getSimpleValue()) && x.getSimpleValue() > 0, x.getTag() + " = " + x.getSimpleValue());
      }
    })));
    assertTrue(logs.get(1).stream().anyMatch(e -> e.hasSessionLog() && e.getStep() == 2), "the restart at step 2");
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /** train's options are the Trainer's declarations: every key of its options is an option of the command. */
  @Test
  void everyTrainerOptionIsACommandLineOption() {
    String help = CliRun.of("train", "--help").out();
    for (String key : io.diffusion4j.train.TrainerOptions.builder().build().toJson().keySet()) {
      assertTrue(help.contains("--" + key.replace('_', '-')), "--" + key.replace('_', '-') + " in train --help");
    }
  }

  @Test
  void resumeWithoutARun() {
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--resume", "--out", out.toString()), 1, "holds no training run", out);
  }
}
