package io.diffusion4j.runtime;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetTfXlaCpuGlobalJit;

import java.util.function.Consumer;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;
import org.tensorflow.proto.RewriterConfig;

/**
 * How a model's graphs run: on which device, in which precision, and whether XLA compiles them.
 * It makes the graph's {@link Ops} (placed on the device) and its sessions (with the precision's
 * grappler rewrite and the JIT level in their ConfigProto).
 *
 * <p>The defaults follow the device: on a GPU mixed precision and XLA are on, on a CPU both are
 * off (XLA made the CPU training step slower where measured; see the README's performance
 * section).
 */
public record Execution(Device device, Precision precision, boolean xla) {
  public static final Execution CPU = new Execution(Device.CPU, Precision.FP32, false);

  /** What the four switches mean, said once for every command that takes them. */
  public static final String DEVICE_DOC = "cpu|gpu|gpu:N: where the graphs run (a GPU needs the gpu build)";
  public static final String AMP_DOC = "mixed precision (default: on for a GPU, off for a CPU)";
  public static final String MIXED_PRECISION_TYPE_DOC = "bf16|fp16 (default: bf16 on a CPU, fp16 on a GPU)";
  public static final String XLA_DOC = "compile the graphs with XLA (default: on for a GPU, off for a CPU,"
      + " where it was slower)";

  /**
   * From the command line's {@code --device}, {@code --amp}, {@code --mixed-precision-type} and
   * {@code --xla}; a null switch takes the device's default.
   */
  public static Execution of(String device, Boolean amp, String mixedPrecisionType, Boolean xla, Consumer<String> log) {
    Device d = Device.parse(device);
    d.requirePresent();
    boolean mixed = amp != null ? amp : d.isGpu();
    String type = mixedPrecisionType != null ? mixedPrecisionType : d.isGpu() ? "fp16" : "bf16";
    return new Execution(d, Precision.resolve(mixed, type, d, log), xla != null ? xla : d.isGpu());
  }

  /** Ops of {@code graph} placed on this device. */
  public Ops ops(Graph graph) {
    Ops tf = Ops.create(graph);
    return device.isGpu() ? tf.withDevice(device.spec()) : tf;
  }

  /** A session for {@code graph} in this process. */
  public Session session(Graph graph) {
    return new Session(graph, configure(ConfigProto.newBuilder().build()));
  }

  /** {@code base} (a cluster's session config, say) with this execution's placement, rewrites and JIT level. */
  public ConfigProto configure(ConfigProto base) {
    ConfigProto.Builder c = base.toBuilder();
    GraphOptions.Builder graph = c.getGraphOptionsBuilder();
    RewriterConfig.Builder rewrites = graph.getRewriteOptionsBuilder();
    switch (precision) {
      case BF16 -> rewrites.setAutoMixedPrecisionOnednnBfloat16(RewriterConfig.Toggle.ON);
      // float16 on a CPU (only tests build it) keeps float32 arithmetic under float16's loss
      // scaling: TensorFlow 2.18's float16 emulation rewrite for CPUs aborts the process
      case FP16 -> {
        if (device.isGpu()) {
          rewrites.setAutoMixedPrecision(RewriterConfig.Toggle.ON);
        }
      }
      case FP32 -> { }
    }
    // Each new feed/fetch set makes grappler optimise the graph afresh (about a second for a
    // small Unet's training step, most of the start-up of a short run). Its second round of
    // passes found nothing more in the graphs measured, and the memory optimiser only swaps and
    // recomputes on GPUs: dropping both cut a short training run's grappler time by about 40%.
    rewrites.setMetaOptimizerIterations(RewriterConfig.NumIterationsType.ONE);
    if (!device.isGpu()) {
      rewrites.setMemoryOptimization(RewriterConfig.MemOptType.NO_MEM_OPT);
    }
    if (xla) {
      prepareProcess();
      graph.getOptimizerOptionsBuilder().setGlobalJitLevel(OptimizerOptions.GlobalJitLevel.ON_1);
    }
    if (device.isGpu()) {
      // ops without a GPU kernel (string and file ops, some integer maths) stay on the CPU
      c.setAllowSoftPlacement(true);
      c.getGpuOptionsBuilder().setAllowGrowth(true);
    }
    return c.build();
  }

  private static boolean prepared;

  /**
   * Turns on the process-wide setting XLA needs on CPUs; call it before the process's first
   * session (Main does). The session's JIT level alone compiles nothing on a CPU: TensorFlow also
   * wants its CPU auto-clustering flag, which it reads once, when the first session makes its
   * devices, and which acts only in sessions whose JIT level is on. A program whose first session
   * is its own can set TF_XLA_FLAGS=--tf_xla_cpu_global_jit instead.
   */
  public static synchronized void prepareProcess() {
    if (!prepared) {
      TF_SetTfXlaCpuGlobalJit((byte) 1);
      prepared = true;
    }
  }

  /** As the bench and the logs print it: {@code cpu fp32}, {@code gpu:0 fp16 xla}. */
  public String describe() {
    return device + " " + precision.jsonName() + (xla ? " xla" : "");
  }
}
