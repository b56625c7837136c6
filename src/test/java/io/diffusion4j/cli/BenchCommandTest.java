package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {
  @TempDir
  Path dir;

  /**
   * A config gives the machine's float32 peak, then three JSON lines: a training step, an
   * evaluation and a sampling run, each with its share of that peak.
   */
  @Test
  void configCasesPrintOneJsonLineEach() throws IOException {
    ModelConfig config = new ModelConfig(UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(8))
        .build(), GaussianDiffusionConfig.builder(8, 8).timesteps(10).samplingTimesteps(3).build());
    Path file = Files.writeString(dir.resolve("tiny.json"), config.toJsonString());
    CliRun run = CliRun.of("bench", "--config", file.toString(), "--batch", "2", "--warmup", "0", "--repeats", "2");
    assertEquals(0, run.code(), run.err());
    List<JsonObject> all = run.out().lines().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
    JsonObject peak = all.get(0);
    assertEquals("peak_matmul_float32", peak.get("case").getAsString());
    assertEquals(4096, peak.get("n").getAsInt());
    double peakGflops = peak.get("gflops").getAsDouble();
    assertTrue(peakGflops > 0, peak.toString());
    List<JsonObject> lines = all.subList(1, all.size());
    assertEquals(List.of("tiny_train", "tiny_eval", "tiny_sample"), lines.stream().map(j -> j.get("case").getAsString()).toList());
    for (JsonObject j : lines) {
      assertFalse(j.has("speedup") || j.has("reference_ms"), "no figures from another machine: " + j);
      assertEquals(j.get("gflops").getAsDouble() / peakGflops, j.get("of_peak").getAsDouble(), 1e-3, j.toString());
      assertEquals(2, j.get("batch").getAsInt());
      assertEquals(2, j.get("repeats").getAsInt());
      double min = j.get("min_ms").getAsDouble();
      double median = j.get("median_ms").getAsDouble();
      assertTrue(min > 0 && min <= median && median <= j.get("max_ms").getAsDouble(), j.toString());
      assertTrue(j.get("gflop").getAsDouble() > 0 && j.get("params").getAsLong() > 0, j.toString());
    }
    JsonObject sample = lines.get(2);
    assertEquals("ddim", sample.get("sampler").getAsString());
    assertEquals(3, sample.get("evaluations").getAsInt());
    // a sampling run of 3 evaluations costs 3 evaluations' FLOPs (the eval line is at the same batch)
    assertEquals(3 * lines.get(1).get("gflop").getAsDouble(), sample.get("gflop").getAsDouble(), 2e-4);
  }

  /**
   * The peak is 2 N^3 FLOPs over the median time, in float32 and, where oneDNN has bfloat16 kernels,
   * in bfloat16 (a small N keeps the test short).
   */
  @Test
  void peakMeasuresBothDtypes() {
    List<io.diffusion4j.bench.Peak.Measurement> measured = io.diffusion4j.runtime.Precision.cpuHasBf16()
        ? List.of(io.diffusion4j.bench.Peak.float32(256), io.diffusion4j.bench.Peak.bfloat16(256))
        : List.of(io.diffusion4j.bench.Peak.float32(256));
    for (var m : measured) {
      assertEquals(2.0 * 256 * 256 * 256 / m.medianMs() / 1e6, m.gflops(), 1e-9);
      assertTrue(m.gflops() > 0.1, m.toString());
      assertEquals("peak_matmul_" + m.dtype(), m.toJson().get("case").getAsString());
    }
  }

  @Test
  void unknownCaseIsAClearError() {
    CliRun run = CliRun.of("bench", "unet3d_train");
    assertEquals(1, run.code());
    assertTrue(run.err().contains("no bench case \"unet3d_train\": expected one of unet2d_train"), run.err());
  }
}
