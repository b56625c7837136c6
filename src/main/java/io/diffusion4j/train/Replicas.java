package io.diffusion4j.train;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.distribute.Cluster;
import io.diffusion4j.distribute.Collectives;
import io.diffusion4j.distribute.Handshake;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The copies of a multi-worker run, one per worker: the chief tells the others the run they
 * join, every worker takes the chief's variables, and all wait for the chief's last save. The
 * gradients are averaged over the workers by {@link TrainStep} through the same collectives.
 */
final class Replicas {
  /** The run a worker joins: its config, its options and the step it starts from. */
  record Run(ModelConfig config, TrainerOptions options, long step) {}

  private final Cluster cluster;
  /** Assigns the chief's value to every variable of the graph: replicas start identical. */
  private final Op fromChief;

  /**
   * Build it when the graph has all its variables: it replicates those the graph has by then.
   *
   * @param tf the scope the replication ops go in, that of {@code collectives}
   */
  Replicas(Cluster cluster, Collectives collectives, Ops tf, Graph graph) {
    this.cluster = cluster;
    List<Operand<TFloat32>> variables = new ArrayList<>();
    graph.operations().forEachRemaining(op -> {
      if (op.type().equals("VariableV2")) {
        variables.add(op.<TFloat32>output(0));
      }
    });
    List<Operand<TFloat32>> values = collectives.fromChief(variables);
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < variables.size(); i++) {
      assigns.add(tf.assign(variables.get(i), values.get(i)));
    }
    this.fromChief = tf.withControlDependencies(assigns).noOp();
  }

  /**
   * On the chief, tells the others the run they join (nothing when {@code cluster} is null), before
   * any worker builds its model: every worker must build its collectives in the same order.
   */
  static void announce(Cluster cluster, Run run) {
    if (cluster != null) {
      JsonObject json = new JsonObject();
      json.add("config", run.config().toJson());
      json.add("options", run.options().toJson());
      json.addProperty("step", run.step());
      Handshake.share(cluster, json.toString());
    }
  }

  /** On a worker other than the chief, the run the chief announced. */
  static Run joined(Cluster cluster) {
    JsonObject json = JsonParser.parseString(Handshake.share(cluster, null)).getAsJsonObject();
    return new Run(ModelConfig.parse(json.getAsJsonObject("config").toString()),
        TrainerOptions.fromJson(json.getAsJsonObject("options")), json.get("step").getAsLong());
  }

  /** This worker's index, which picks its share of each batch. */
  int index() {
    return cluster.config().index();
  }

  int count() {
    return cluster.config().numWorkers();
  }

  /** Every worker takes the chief's variables (initialised or restored). */
  void copyFromChief(Session session) {
    session.run(fromChief);
  }

  /** Waits for every worker: once the chief's last save is done, every worker may leave. */
  void barrier() {
    Handshake.barrier(cluster);
  }

  /** A failure of the collectives said as what it means for the run: the workers lost each other. */
  IllegalStateException lost(TensorFlowException e) {
    // the first line says why; the rest is gRPC's detail
    String why = e.getMessage() == null ? "" : Cluster.withoutTask(e.getMessage()).lines().map(String::strip)
        .filter(l -> !l.isEmpty()).findFirst().orElse("");
    return new IllegalStateException("worker " + index() + " lost the other workers"
        + (why.isEmpty() ? "" : " (" + why + ")") + "; start every worker again with --resume to go on from"
        + " the last checkpoint", e);
  }

  /**
   * A SHA-256 fingerprint of the weights and their EMA, by name and bits: the workers of a
   * cluster print it at the end, and replicas that stayed identical print the same.
   */
  static String fingerprint(DiffusionModel model) {
    Hasher h = Hashing.sha256().newHasher();
    for (Map<String, FloatArray> weights : List.of(model.weights(), model.emaWeights())) {
      new TreeMap<>(weights).forEach((name, array) -> {
        h.putString(name, StandardCharsets.UTF_8).putByte((byte) 0);
        for (float v : array.data()) {
          h.putInt(Float.floatToRawIntBits(v));
        }
      });
    }
    return h.hash().toString().substring(0, 16);
  }
}
