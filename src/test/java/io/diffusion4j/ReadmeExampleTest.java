package io.diffusion4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.data.Dataset;
import io.diffusion4j.data.ImageFolderDataset;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.ImageGrid;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.train.Trainer;
import io.diffusion4j.train.TrainerOptions;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.util.List;

/** The README's Java example, at toy size: it compiles and runs as written there. */
class ReadmeExampleTest {

  @Test
  void trainThenSample(@TempDir Path dir) throws IOException {
    Path folder = Files.createDirectories(dir.resolve("images"));
    for (int i = 0; i < 8; i++) {
      BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
      img.setRGB(i, i, 0xffffff);
      ImageIO.write(img, "png", folder.resolve("img" + i + ".png").toFile());
    }
    Path results = dir.resolve("results/mine");

    ModelConfig config = new ModelConfig(
        UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(3).attnDimHead(List.of(8)).attnHeads(List.of(1)).build(),
        GaussianDiffusionConfig.builder(8, 8).timesteps(20).samplingTimesteps(4).build());
    Dataset images = ImageFolderDataset.open(folder, 8, 8, 3, null);
    TrainerOptions options = TrainerOptions.builder().trainBatchSize(4).trainNumSteps(3).numSamples(4).build();
    try (Trainer trainer = Trainer.create(config, images, options, results)) {
      trainer.log(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).train();
    }

    try (DiffusionModel model = DiffusionModel.load(results, DiffusionModel.Weights.PREFER_EMA)) {
      DiffusionSampler sampler = model.sampler();
      FloatArray samples = sampler.sample(sampler.initialNoise(16, 42), 42);
      ImageGrid.writePng(dir.resolve("samples.png"), samples);
      assertArrayEquals(new long[] {16, 8, 8, 3}, samples.shape());
    }
    assertTrue(Files.size(dir.resolve("samples.png")) > 0);
  }
}
