package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every diffusion type of the family trains on the embedded dataset from the command line (30
 * steps of a small config, finite loss) and samples images in [0, 1]; simple diffusion with its
 * UViT, the learned variance under XMWrapper. (VParamContinuousTimeGaussianDiffusion takes the
 * continuous-time path of the first case; the suite's time keeps it to these.)
 */
class FamilyTrainingTest {
  private static final String UNET = "{\"type\": \"Unet\", \"dim\": 8, \"dim_mults\": [1, 2], \"channels\": 1, "
      + "\"attn_heads\": 2, \"attn_dim_head\": 8";
  private static final String CONTINUOUS_UNET = UNET + ", \"learned_sinusoidal_cond\": true}";

  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "ContinuousTimeGaussianDiffusion | continuous | \"noise_schedule\": \"learned\", \"learned_schedule_net_hidden_dim\": 16, \"num_sample_steps\": 4",
      "simple_diffusion.GaussianDiffusion | uvit | \"noise_d\": 14, \"num_sample_steps\": 4",
      "LearnedGaussianDiffusion | learned-xm | \"timesteps\": 16, \"objective\": \"pred_noise\", \"beta_schedule\": \"cosine\"",
      "WeightedObjectiveGaussianDiffusion | weighted | \"timesteps\": 16, \"beta_schedule\": \"cosine\""})
  void trainsAndSamples(String type, String network, String options) throws IOException {
    String model = switch (network) {
      case "continuous" -> CONTINUOUS_UNET;
      case "uvit" -> "{\"type\": \"simple_diffusion.UViT\", \"dim\": 8, \"dim_mults\": [1, 2], \"channels\": 1, "
          + "\"vit_depth\": 1, \"attn_heads\": 2, \"attn_dim_head\": 8}";
      case "learned-xm" -> UNET + ", \"learned_variance\": true}";
      case "weighted" -> UNET + ", \"out_dim\": 4}";
      default -> throw new IllegalArgumentException(network);
    };
    String wrapper = network.endsWith("xm") ? ", \"wrapper\": {\"type\": \"XMWrapper\", \"candidates\": 3, \"max_batch_size\": 4}" : "";
    Path config = dir.resolve("config.json");
    Files.writeString(config, "{\"model\": " + model + ", \"diffusion\": {\"type\": \"" + type
        + "\", \"image_size\": 28, " + options + "}" + wrapper + "}");
    Path out = dir.resolve("model");
    CliRun train = CliRun.of("train", "--config", config.toString(), "--out", out.toString(), "--steps", "30",
        "--batch-size", "2", "--lr", "1e-3", "--save-and-sample-every", "1000", "--log-every", "10", "--num-samples", "1");
    assertEquals(0, train.code(), train.err());
    List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
    double loss = JsonParser.parseString(metrics.get(metrics.size() - 1)).getAsJsonObject().get("loss").getAsDouble();
    assertTrue(Double.isFinite(loss) && loss >= 0, "final loss " + loss);
    Path samples = dir.resolve("s.npy");
    CliRun sample = CliRun.of("sample", "--model", out.toString(), "--num", "3", "--seed", "1", "--out",
        samples.toString());
    assertEquals(0, sample.code(), sample.err());
    FloatArray images = Npy.read(samples);
    assertEquals(List.of(3L, 28L, 28L, 1L), java.util.Arrays.stream(images.shape()).boxed().toList());
    for (float v : images.data()) {
      assertTrue(v >= 0 && v <= 1, "pixel " + v);
    }
  }
}
