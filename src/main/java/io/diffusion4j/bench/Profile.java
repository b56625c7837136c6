package io.diffusion4j.bench;

import java.io.PrintWriter;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;

/**
 * TensorFlow's per-op step statistics of traced runs, summed by op type and by network part.
 * Times are kernel times (op start to op end); with several threads running kernels side by
 * side they add up to more than the wall time, which is printed beside them.
 */
public final class Profile implements Consumer<RunMetadata> {
  /** The parts of a training step, told apart by the name scopes the graph was built with. */
  public enum Part {
    FORWARD, BACKWARD, OPTIMIZER, EMA;

    static Part of(String node) {
      if (node.contains("ema_update")) {
        return EMA;
      }
      if (node.contains("adam_update") || node.contains("global_norm") || node.contains("loss_scale")) {
        return OPTIMIZER;
      }
      // tf.gradients prefixes the ops it adds with the scope's "Gradients"; oneDNN's rewrites keep the name
      return node.contains("Gradients") || node.contains("gradients") ? BACKWARD : FORWARD;
    }
  }

  private final Map<String, Long> byOp = new TreeMap<>();
  private final Map<Part, Long> byPart = new TreeMap<>();
  private long kernelMicros;
  private int runs;
  private double wallMillis;

  @Override
  public void accept(RunMetadata metadata) {
    for (DeviceStepStats device : metadata.getStepStats().getDevStatsList()) {
      for (NodeExecStats n : device.getNodeStatsList()) {
        long micros = Math.max(0, n.getOpEndRelMicros() - n.getOpStartRelMicros());
        byOp.merge(opType(n), micros, Long::sum);
        byPart.merge(Part.of(n.getNodeName()), micros, Long::sum);
        kernelMicros += micros;
      }
    }
  }

  /** Counts the traced units of work (steps, evaluations) whose metadata came in, with their wall-clock times. */
  void addRuns(double[] millis) {
    runs += millis.length;
    for (double m : millis) {
      wallMillis += m;
    }
  }

  /** The op type from the timeline label ("name = Type(inputs)"), else the node name's last part. */
  static String opType(NodeExecStats n) {
    String label = n.getTimelineLabel();
    int eq = label.indexOf(" = ");
    int paren = label.indexOf('(', Math.max(eq, 0));
    if (eq >= 0 && paren > eq) {
      return label.substring(eq + 3, paren);
    }
    String name = n.getNodeName();
    return name.substring(name.lastIndexOf('/') + 1).replaceAll("_\\d+$", "");
  }

  public Map<String, Double> millisByOp() {
    return perRun(byOp);
  }

  public Map<Part, Double> millisByPart() {
    return perRun(byPart);
  }

  private <K> Map<K, Double> perRun(Map<K, Long> micros) {
    Map<K, Double> out = new LinkedHashMap<>();
    micros.entrySet().stream().sorted(Map.Entry.<K, Long>comparingByValue(Comparator.reverseOrder()))
        .forEach(e -> out.put(e.getKey(), e.getValue() / 1e3 / Math.max(runs, 1)));
    return out;
  }

  /** Markdown tables: by part, then the {@code top} op types. */
  public void print(PrintWriter out, String title, int top) {
    double kernel = kernelMicros / 1e3 / Math.max(runs, 1);
    out.printf(Locale.ROOT, "%s: %d traced runs, %.1f ms wall and %.1f ms kernel time per run%n%n", title, runs,
        wallMillis / Math.max(runs, 1), kernel);
    out.println("| part | ms per run | share |");
    out.println("|---|---:|---:|");
    millisByPart().forEach((k, v) -> out.printf(Locale.ROOT, "| %s | %.1f | %.1f%% |%n",
        k.name().toLowerCase(Locale.ROOT), v, 100 * v / kernel));
    out.println();
    out.println("| op type | ms per run | share |");
    out.println("|---|---:|---:|");
    millisByOp().entrySet().stream().limit(top).forEach(e -> out.printf(Locale.ROOT, "| %s | %.1f | %.1f%% |%n",
        e.getKey(), e.getValue(), 100 * e.getValue() / kernel));
    out.println();
    out.flush();
  }
}
