package io.diffusion4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.diffusion4j.nn.Parameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.op.Ops;

/**
 * The architecture equals the reference's to the parameter: counts as stated in issue 2, names
 * and PyTorch shapes in state_dict order as listed by the reference itself (fixture files).
 */
class UnetParameterCountTest {

  @Test
  void unet2dMatchesReference() throws IOException {
    check(UnetConfig.builder(32).dimMults(List.of(1, 2, 4)).channels(3).build(), 193, 2_610_883L, "param_names_unet2d.txt");
  }

  @Test
  void unet1dMatchesReference() throws IOException {
    check(UnetConfig.builder1d(32).dimMults(List.of(1, 2, 4)).channels(2).build(), 188, 1_272_514L, "param_names_unet1d.txt");
  }

  private static void check(UnetConfig config, int tensors, long count, String namesFile) throws IOException {
    try (Graph g = new Graph()) {
      Parameters p = Unet.create(Ops.create(g), config).parameters();
      assertEquals(tensors, p.all().size());
      assertEquals(count, p.count());
      List<String> expected = Files.readAllLines(Path.of("src/test/resources/reference", namesFile));
      List<String> actual = p.all().stream()
          .map(x -> x.name() + "\t" + Arrays.stream(x.layout().torchShape()).mapToObj(Long::toString)
              .collect(Collectors.joining(",")))
          .toList();
      assertEquals(expected, actual);
    }
  }
}
