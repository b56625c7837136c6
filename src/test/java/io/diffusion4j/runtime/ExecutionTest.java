package io.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solvers;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The device and XLA switches: what they refuse, and that XLA compiles and agrees with plain TensorFlow. */
class ExecutionTest {
  private static final ModelConfig TINY = new ModelConfig(
      UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(8)).build(),
      GaussianDiffusionConfig.builder(8, 8).timesteps(20).samplingTimesteps(4).build());

  @Test
  void devicesParseAndBadOnesAreNamed() {
    assertEquals(Device.CPU, Device.parse("CPU"));
    assertEquals(new Device(Device.Kind.GPU, 0), Device.parse("gpu"));
    assertEquals(new Device(Device.Kind.GPU, 3), Device.parse("gpu:3"));
    var e = assertThrows(IllegalArgumentException.class, () -> Device.parse("tpu"));
    assertEquals("--device \"tpu\" is not allowed: expected cpu, gpu or gpu:N", e.getMessage());
  }

  /** These machines have no GPU (and the default build has CPU natives): asking for one fails in one line. */
  @Test
  void askingForAMissingGpuFailsClearly() {
    var e = assertThrows(IllegalArgumentException.class, () -> Execution.of("gpu:0", null, null, null, s -> { }));
    assertTrue(e.getMessage().startsWith("--device gpu:0: TensorFlow sees no GPU 0 here"), e.getMessage());
  }

  @Test
  void defaultsFollowTheDevice() {
    List<String> said = new ArrayList<>();
    Execution cpu = Execution.of("cpu", null, null, null, said::add);
    assertEquals(Execution.CPU, cpu);
    assertTrue(said.isEmpty());
    Execution amp = Execution.of("cpu", true, null, null, said::add);
    assertEquals(Precision.cpuHasBf16() ? Precision.BF16 : Precision.FP32, amp.precision());
    assertEquals(Precision.cpuHasBf16() ? 0 : 1, said.size(), "a fallback to float32 is said");
    assertEquals(Precision.FP32, Execution.of("cpu", true, "fp16", false, said::add).precision());
    assertTrue(said.get(said.size() - 1).contains("needs a GPU"), "fp16 on a CPU says it falls back");
    var e = assertThrows(IllegalArgumentException.class, () -> Execution.of("cpu", true, "fp8", null, said::add));
    assertEquals("--mixed-precision-type \"fp8\" is not allowed: expected fp16 or bf16", e.getMessage());
  }

  /** XLA compiles the sampling graph (its clusters show in the trace) and gives the same samples within 1e-3. */
  @Test
  void xlaSamplesEqualPlainOnes() {
    FloatArray plain = sample(Execution.CPU, null);
    List<String> ops = new ArrayList<>();
    FloatArray compiled = sample(new Execution(Device.CPU, Precision.FP32, true), ops);
    assertTrue(ops.stream().anyMatch(o -> o.contains("Xla")), "XLA ran clusters: " + ops.stream().distinct().toList());
    assertEquals(plain.data().length, compiled.data().length);
    double max = 0;
    for (int i = 0; i < plain.data().length; i++) {
      max = Math.max(max, Math.abs(plain.data()[i] - compiled.data()[i]));
    }
    assertTrue(max < 1e-3, "largest difference " + max);
  }

  /** DDIM samples of the tiny model; with {@code ops}, the op types of one traced network evaluation. */
  private static FloatArray sample(Execution execution, List<String> ops) {
    try (DiffusionModel model = DiffusionModel.create(TINY, 3, false, execution)) {
      DiffusionSampler sampler = model.sampler();
      Settings settings = Settings.of(sampler.denoiser(), Solvers.named("ddim"), 4, null, 0.0, null, 5);
      FloatArray noise = sampler.initialNoise(3, 7);
      if (ops != null) {
        float[] x = new float[3 * 8 * 8];
        Tracing.collect(md -> md.getStepStats().getDevStatsList().forEach(d -> d.getNodeStatsList().forEach(
            n -> ops.add(n.getTimelineLabel()))), () -> model.forward(new FloatArray(new long[] {3, 8, 8, 1}, x),
            new float[] {1, 5, 9}, null));
      }
      return sampler.sample(settings, noise, null);
    }
  }
}
