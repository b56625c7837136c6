package io.diffusion4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.diffusion4j.nn.Parameters;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.op.Ops;

/** The architecture equals the reference's to the parameter (figures stated in issue 2). */
class UnetParameterCountTest {

  @Test
  void unet2dMatchesReference() {
    try (Graph g = new Graph()) {
      Parameters p = Unet.create(Ops.create(g), UnetConfig.builder(32).dimMults(1, 2, 4).channels(3).build()).parameters();
      assertEquals(193, p.all().size());
      assertEquals(2_610_883L, p.count());
    }
  }

  @Test
  void unet1dMatchesReference() {
    try (Graph g = new Graph()) {
      Parameters p = Unet.create(Ops.create(g), UnetConfig.builder1d(32).dimMults(1, 2, 4).channels(2).build()).parameters();
      assertEquals(188, p.all().size());
      assertEquals(1_272_514L, p.count());
    }
  }
}
