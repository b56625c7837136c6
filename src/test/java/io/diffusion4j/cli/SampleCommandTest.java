package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.util.List;

class SampleCommandTest {
  @TempDir
  static Path dir;
  static Path model;

  @BeforeAll
  static void saveModel() throws IOException {
    model = dir.resolve("model");
    ModelConfig config = new ModelConfig(
        UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(3).attnHeads(List.of(1)).attnDimHead(List.of(8)).build(),
        GaussianDiffusionConfig.builder(8, 8).timesteps(20).samplingTimesteps(5).build());
    try (DiffusionModel m = DiffusionModel.create(config, 9)) {
      m.save(model);
    }
  }

  /** An output larger than the disk's free space is refused at once, in one line, and nothing is written. */
  @Test
  void anOutputThatCannotFitIsRefusedBeforeSampling() throws IOException {
    Path folder = dir.resolve("huge");
    Path out = folder.resolve("s.npy");
    long started = System.nanoTime();
    // 2e12 images of 8x8x3 float32: 1.5 PB
    CliRun run = CliRun.of("sample", "--model", model.toString(), "--num", "2000000000000", "--out", out.toString());
    run.assertOneClearLine(1, "--num 2000000000000 --out " + out + " would write 1.54 PB, more than the");
    assertTrue(run.err().contains(" free in " + dir), run.err());
    assertTrue((System.nanoTime() - started) / 1e9 < 60, "refused at once");
    assertFalse(Files.exists(folder), "nothing written");
    CliRun grid = CliRun.of("sample", "--model", model.toString(), "--num", "4", "--out", out.toString());
    assertEquals(0, grid.code(), grid.err());
  }

  @Test
  void ddimWithEtaZeroFromNoiseIsReproducible() throws IOException {
    Path noise = dir.resolve("n.npy");
    float[] values = new float[2 * 8 * 8 * 3];
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) r.nextGaussian();
    }
    Npy.write(noise, new FloatArray(new long[] {2, 8, 8, 3}, values));
    for (String name : new String[] {"a.npy", "b.npy"}) {
      CliRun run = CliRun.of("sample", "--model", model.toString(), "--noise", noise.toString(), "--sampler", "ddim",
          "--eta", "0", "--out", dir.resolve(name).toString());
      assertEquals(0, run.code(), run.err());
    }
    assertArrayEquals(Files.readAllBytes(dir.resolve("a.npy")), Files.readAllBytes(dir.resolve("b.npy")));
    FloatArray s = Npy.read(dir.resolve("a.npy"));
    assertArrayEquals(new long[] {2, 8, 8, 3}, s.shape());
    for (float v : s.data()) {
      assertTrue(v >= 0 && v <= 1, "sample " + v + " outside [0, 1]");
    }
  }

  @Test
  void seededRunsAreReproducibleForEverySampler() throws IOException {
    for (String sampler : new String[] {"ddim", "ddpm"}) {
      for (String name : new String[] {sampler + "1.npy", sampler + "2.npy"}) {
        CliRun run = CliRun.of("sample", "--model", model.toString(), "--seed", "5", "--num", "3", "--sampler", sampler,
            "--eta", "0.5", "--out", dir.resolve(name).toString());
        assertEquals(0, run.code(), run.err());
      }
      assertArrayEquals(Files.readAllBytes(dir.resolve(sampler + "1.npy")), Files.readAllBytes(dir.resolve(sampler + "2.npy")));
    }
    assertFalse(java.util.Arrays.equals(Files.readAllBytes(dir.resolve("ddim1.npy")), Files.readAllBytes(dir.resolve("ddpm1.npy"))));
  }

  /** The first images of a long run equal a short run's, whatever the batch size (ddpm: noise at every step). */
  @Test
  void imagesDoNotDependOnTheBatchSize() throws IOException {
    Path a = dir.resolve("batched.npy");
    Path b = dir.resolve("long.npy");
    CliRun small = CliRun.of("sample", "--model", model.toString(), "--seed", "4", "--num", "5", "--batch-size", "2",
        "--sampler", "ddpm", "--out", a.toString());
    assertEquals(0, small.code(), small.err());
    CliRun large = CliRun.of("sample", "--model", model.toString(), "--seed", "4", "--num", "9", "--sampler", "ddpm",
        "--out", b.toString());
    assertEquals(0, large.code(), large.err());
    FloatArray first = Npy.read(a);
    FloatArray all = Npy.read(b);
    assertArrayEquals(new long[] {9, 8, 8, 3}, all.shape());
    io.diffusion4j.Close.assertClose(first.data(), java.util.Arrays.copyOf(all.data(), first.data().length), 1e-5);
  }

  @Test
  void writesPngGrid() throws IOException {
    Path png = dir.resolve("grid.png");
    CliRun run = CliRun.of("sample", "--model", model.toString(), "--seed", "1", "--num", "4", "--out", png.toString());
    assertEquals(0, run.code(), run.err());
    var image = ImageIO.read(png.toFile());
    // make_grid: 2 x 2 images of 8 with 2 pixels of padding around each
    assertEquals(2 * (8 + 2) + 2, image.getWidth());
  }

  @Test
  void badInputGivesOneClearLine() throws IOException {
    Path wrong = dir.resolve("wrong.npy");
    Npy.write(wrong, FloatArray.zeros(2, 4, 4, 3));
    CliRun shape = CliRun.of("sample", "--model", model.toString(), "--noise", wrong.toString(), "--out", dir.resolve("x.npy").toString());
    assertEquals(1, shape.code());
    assertEquals("diffusion4j: --noise has shape [2, 4, 4, 3], expected [N, 8, 8, 3] (channels-last)", shape.err().strip());

    CliRun unknown = CliRun.of("sample", "--model", model.toString(), "--out", "x.npy", "--colour", "red");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("Unknown options: '--colour'"), unknown.err());

    CliRun missing = CliRun.of("sample", "--model", dir.resolve("nothing").toString(), "--out", "x.npy");
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("does not exist"), missing.err());
    assertEquals(1, missing.err().strip().lines().count());

    CliRun missingNoise = CliRun.of("sample", "--model", model.toString(), "--noise", dir.resolve("none.npy").toString(), "--out", "x.npy");
    assertEquals(1, missingNoise.code());
    assertTrue(missingNoise.err().contains("none.npy"), missingNoise.err());
    assertFalse(Files.exists(Path.of("x.npy")));
  }

  /**
   * --inpaint keeps the pixels the mask keeps exactly, fills the others in [0, 1], and an image
   * depends on its index, not on the batch it was inpainted in.
   */
  @Test
  void inpaintingKeepsTheKnownHalfExactly() throws IOException {
    float[] images = new float[3 * 8 * 8 * 3];
    java.util.SplittableRandom r = new java.util.SplittableRandom(2);
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) r.nextDouble();
    }
    Npy.write(dir.resolve("known.npy"), new FloatArray(new long[] {3, 8, 8, 3}, images));
    float[] mask = new float[8 * 8];
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 4; x++) {
        mask[y * 8 + x] = 1;
      }
    }
    Npy.write(dir.resolve("mask.npy"), new FloatArray(new long[] {8, 8}, mask));
    float[] each = new float[3 * 8 * 8];
    for (int i = 0; i < 3; i++) {
      System.arraycopy(mask, 0, each, i * 64, 64);
    }
    Npy.write(dir.resolve("masks.npy"), new FloatArray(new long[] {3, 8, 8, 1}, each));
    for (String[] run : new String[][] {{"1", "mask.npy"}, {"3", "mask.npy"}, {"1", "masks.npy"}}) {
      CliRun cli = CliRun.of("sample", "--model", model.toString(), "--inpaint", dir.resolve("known.npy").toString(),
          "--mask", dir.resolve(run[1]).toString(), "--resample-iter", "2", "--resample-jump", "3",
          "--resample-every", "5", "--seed", "4", "--batch-size", run[0],
          "--out", dir.resolve("in" + run[0] + run[1]).toString());
      assertEquals(0, cli.code(), cli.err());
    }
    FloatArray out = Npy.read(dir.resolve("in1mask.npy"));
    // the batch changes only kernels' float32 rounding; one mask per image read batch by batch is the same mask
    io.diffusion4j.Close.assertClose(Npy.read(dir.resolve("in3mask.npy")).data(), out.data(), 1e-5);
    assertArrayEquals(out.data(), Npy.read(dir.resolve("in1masks.npy")).data());
    int filled = 0;
    for (int i = 0; i < images.length; i++) {
      int x = (i / 3) % 8;
      if (x < 4) {
        assertEquals(images[i], out.data()[i], 0f, "kept pixel " + i);
      } else {
        assertTrue(out.data()[i] >= 0 && out.data()[i] <= 1);
        filled += out.data()[i] != images[i] ? 1 : 0;
      }
    }
    assertTrue(filled > images.length / 3, filled + " filled values differ from the originals");
  }
}
