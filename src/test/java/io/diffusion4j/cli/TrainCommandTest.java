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
    assertFailsCleanly(CliRun.of("train", "--out", out.toString(), "--num-samples", "10"), 1,
        "num_samples = 10 must be a perfect square", out);
  }

  @Test
  void bestCheckpointsNeedScores() {
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--out", out.toString(), "--save-best-and-latest-only"), 1,
        "save_best_and_latest_only = true needs calculate_fid = true", out);
    assertFailsCleanly(CliRun.of("train", "--out", out.toString(), "--calculate-fid", "--fid-network",
        dir.resolve("missing.pb").toString()), 1, "missing.pb does not exist", out);
  }

  @Test
  void resumeWithoutARun() {
    Path out = dir.resolve("out");
    assertFailsCleanly(CliRun.of("train", "--resume", "--out", out.toString()), 1, "holds no training run", out);
  }
}
