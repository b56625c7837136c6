package io.diffusion4j.distribute;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * TensorFlow's standard multi-worker configuration, the {@code TF_CONFIG} environment variable:
 * {@code {"cluster": {"worker": ["host0:port", "host1:port"]}, "task": {"type": "worker", "index": 0}}}.
 * Worker 0 is the chief. Only a "worker" job is understood: diffusion4j has no parameter servers
 * or evaluators.
 *
 * @param workers each worker's host:port, in task order
 * @param index this process's task
 */
public record TfConfig(List<String> workers, int index) {
  public static final String VARIABLE = "TF_CONFIG";

  public TfConfig {
    workers = List.copyOf(workers);
    if (workers.isEmpty()) {
      throw invalid("cluster.worker lists no workers");
    }
    for (String w : workers) {
      int colon = w.lastIndexOf(':');
      int port = -1;
      try {
        port = colon > 0 ? Integer.parseInt(w.substring(colon + 1)) : -1;
      } catch (NumberFormatException e) {
        // reported below
      }
      if (port < 1 || port > 65535) {
        throw invalid("cluster.worker entry \"" + w + "\" is not host:port with a port from 1 to 65535");
      }
    }
    if (index < 0 || index >= workers.size()) {
      throw invalid("task.index " + index + " is out of range: the cluster has " + workers.size()
          + (workers.size() == 1 ? " worker" : " workers") + " (0 to "
          + (workers.size() - 1) + ")");
    }
  }

  /** The configuration in the environment, or empty when TF_CONFIG is unset or blank. */
  public static Optional<TfConfig> fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  static Optional<TfConfig> fromEnvironment(Map<String, String> env) {
    String text = env.get(VARIABLE);
    return text == null || text.isBlank() ? Optional.empty() : Optional.of(parse(text));
  }

  public static TfConfig parse(String text) {
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (JsonParseException e) {
      throw invalid("not valid JSON (" + text.strip() + ")");
    }
    JsonObject o = object(root, "the value");
    JsonObject cluster = object(o.get("cluster"), "cluster");
    for (String job : cluster.keySet()) {
      if (!job.equals("worker")) {
        throw invalid("cluster." + job + " is not supported: diffusion4j runs a \"worker\" job only (worker 0 is the"
            + " chief)");
      }
    }
    JsonElement list = cluster.get("worker");
    if (list == null || !list.isJsonArray()) {
      throw invalid("cluster.worker must be a list of \"host:port\"");
    }
    List<String> workers = new ArrayList<>();
    for (JsonElement e : (JsonArray) list) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
        throw invalid("cluster.worker entry " + e + " is not a \"host:port\" string");
      }
      workers.add(e.getAsString());
    }
    JsonObject task = object(o.get("task"), "task");
    JsonElement type = task.get("type");
    if (type == null || !type.isJsonPrimitive() || !type.getAsString().equals("worker")) {
      throw invalid("task.type must be \"worker\", got " + type);
    }
    JsonElement index = task.get("index");
    if (index == null || !index.isJsonPrimitive() || !index.getAsJsonPrimitive().isNumber()
        || index.getAsDouble() != Math.rint(index.getAsDouble())) {
      throw invalid("task.index must be an integer, got " + index);
    }
    return new TfConfig(workers, index.getAsInt());
  }

  public int numWorkers() {
    return workers.size();
  }

  public boolean isChief() {
    return index == 0;
  }

  public String address() {
    return workers.get(index);
  }

  /** The port this worker's server listens on. */
  public int port() {
    String w = address();
    return Integer.parseInt(w.substring(w.lastIndexOf(':') + 1));
  }

  private static JsonObject object(JsonElement e, String what) {
    if (e == null || !e.isJsonObject()) {
      throw invalid(what + " must be a JSON object");
    }
    return e.getAsJsonObject();
  }

  private static IllegalArgumentException invalid(String why) {
    return new IllegalArgumentException(VARIABLE + ": " + why);
  }
}
