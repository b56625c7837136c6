package io.diffusion4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.nn.Parameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.op.Ops;

/**
 * The Karras U-Nets equal the reference's to the parameter: names and PyTorch shapes in
 * state_dict order, and tensor / parameter / trainable counts, as the reference itself listed
 * them (src/test/resources/reference/karras: param_names_*.txt and counts.json, written by
 * make_karras_fixtures.py, which also holds each network's constructor arguments).
 */
class KarrasUnetParameterTest {
  static final Path DIR = Path.of("src/test/resources/reference/karras");

  @Test
  void karrasUnet2dCountsAsStated() {
    KarrasUnetConfig c = KarrasUnetConfig.builder(32).dim(64).dimMax(256).channels(3).numDownsamples(2)
        .numBlocksPerStage(List.of(2)).attnRes(List.of(8)).build();
    try (Graph g = new Graph()) {
      Parameters p = KarrasUnet.create(Ops.create(g), c).parameters();
      assertEquals(18_022_366L, p.count());
      assertEquals(18_022_358L, p.trainableCount());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"karras2d", "karras2d_classes", "karras1d", "karras3d_factorized", "karras3d_joint",
      "karras3d_stages"})
  void namesShapesAndCountsMatchReference(String name) throws IOException {
    JsonObject counts = JsonParser.parseString(Files.readString(DIR.resolve("counts.json")))
        .getAsJsonObject().getAsJsonObject(name);
    NetworkConfig config = NetworkConfig.fromJson(counts.getAsJsonObject("config"));
    try (Graph g = new Graph()) {
      Parameters p = config.create(Ops.create(g)).parameters();
      List<String> expected = Files.readAllLines(DIR.resolve("param_names_" + name + ".txt"));
      List<String> actual = p.all().stream()
          .map(x -> x.name() + "\t" + Arrays.stream(x.layout().torchShape()).mapToObj(Long::toString)
              .collect(Collectors.joining(",")))
          .toList();
      assertEquals(expected, actual);
      assertEquals(counts.get("tensors").getAsInt(), p.all().size());
      assertEquals(counts.get("parameters").getAsLong(), p.count());
      assertEquals(counts.get("trainable").getAsLong(), p.trainableCount());
    }
  }
}
