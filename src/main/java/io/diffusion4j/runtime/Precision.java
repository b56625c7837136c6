package io.diffusion4j.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The arithmetic a graph's heavy ops run in. Weights, optimizer state, EMA, the loss and the noise
 * schedule stay float32 whatever this says: TensorFlow's grappler rewrites cast the inputs of
 * matrix products, convolutions and what lies between them, and cast back where float32 is needed.
 */
public enum Precision {
  FP32,
  /** bfloat16 through oneDNN on a CPU with AVX-512 BF16 or AMX. */
  BF16,
  /** float16 with dynamic loss scaling, through TensorFlow's CUDA rewrite on a GPU. */
  FP16;

  /** What mixed_precision_type may say, the reference's names. */
  public static final String[] TYPES = {"fp16", "bf16"};

  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether gradients need loss scaling to survive float16's narrow range. */
  public boolean scalesLoss() {
    return this == FP16;
  }

  /**
   * What {@code --amp} and {@code --mixed-precision-type} (the reference Trainer's amp and
   * mixed_precision_type) come to on {@code device}; where the device cannot do it fast, a line
   * to {@code log} says what runs instead.
   */
  public static Precision resolve(boolean amp, String type, Device device, Consumer<String> log) {
    if (!amp) {
      return FP32;
    }
    return switch (type.toLowerCase(Locale.ROOT)) {
      case "bf16" -> {
        if (device.isGpu()) {
          throw new IllegalArgumentException("--mixed-precision-type bf16 on " + device + " is not offered:"
              + " TensorFlow's bfloat16 rewrite converts CPU ops only; on a GPU use fp16 (with loss scaling)");
        }
        if (!cpuHasBf16()) {
          log.accept("amp: this CPU has neither AVX-512 BF16 nor AMX (or ONEDNN_MAX_CPU_ISA leaves oneDNN without"
              + " them), so bfloat16 would be emulated or refused: running in float32");
          yield FP32;
        }
        yield BF16;
      }
      case "fp16" -> {
        if (!device.isGpu()) {
          log.accept("amp: fp16 mixed precision needs a GPU; on a CPU use --mixed-precision-type bf16: running in"
              + " float32");
          yield FP32;
        }
        yield FP16;
      }
      default -> throw new IllegalArgumentException("--mixed-precision-type \"" + type
          + "\" is not allowed: expected " + String.join(" or ", TYPES));
    };
  }

  private static Boolean bf16;

  /**
   * oneDNN's instruction-set caps (ONEDNN_MAX_CPU_ISA, or its older name DNNL_MAX_CPU_ISA) below
   * the one that brings bfloat16 arithmetic: under them oneDNN has no bfloat16 kernels for
   * convolutions or matrix products, and a graph rewritten to bfloat16 aborts the process.
   */
  private static final List<String> CAPS_WITHOUT_BF16 = List.of("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2",
      "AVX512_CORE", "AVX512_CORE_VNNI");

  /**
   * Whether oneDNN computes in bfloat16 here: the CPU has it (Linux's cpuinfo flags avx512_bf16
   * or amx_bf16) and no instruction-set cap of oneDNN's environment variables takes it away.
   */
  public static synchronized boolean cpuHasBf16() {
    if (bf16 == null) {
      String cap = Optional.ofNullable(System.getenv("ONEDNN_MAX_CPU_ISA"))
          .or(() -> Optional.ofNullable(System.getenv("DNNL_MAX_CPU_ISA"))).orElse("").strip().toUpperCase(Locale.ROOT);
      try {
        String info = Files.readString(Path.of("/proc/cpuinfo"));
        bf16 = (info.contains(" avx512_bf16") || info.contains(" amx_bf16")) && !CAPS_WITHOUT_BF16.contains(cap);
      } catch (IOException | RuntimeException e) {
        bf16 = false;
      }
    }
    return bf16;
  }
}
