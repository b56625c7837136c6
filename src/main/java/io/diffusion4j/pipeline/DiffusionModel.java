package io.diffusion4j.pipeline;

import io.diffusion4j.diffusion.Diffusion;
import io.diffusion4j.io.AtomicFiles;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Safetensors;
import io.diffusion4j.models.DeferredNetwork;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.sampling.SessionDriver;
import io.diffusion4j.sampling.StepRun;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A network (and its diffusion, when the config has one) in its own graph and session: what a
 * model folder becomes when loaded. Closing it frees the native graph and session.
 */
public final class DiffusionModel implements AutoCloseable {
  public static final String CONFIG = "config.json";
  public static final String MODEL_WEIGHTS = "model.safetensors";
  public static final String EMA_WEIGHTS = "ema.safetensors";

  /** Which weights of a model folder to use. */
  public enum Weights {
    /** The EMA weights when the folder has them, else the model weights. */
    PREFER_EMA,
    EMA,
    MODEL;

    public static Weights parse(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "ema" -> EMA;
        case "model" -> MODEL;
        default -> throw new IllegalArgumentException("weights \"" + name + "\" is not allowed: expected ema or model");
      };
    }
  }

  private final ModelConfig config;
  private final Graph graph;
  private final Session session;
  private final Ops tf;
  private final Network network;
  private final Diffusion diffusion;
  private final Network emaNetwork;
  private final Diffusion emaDiffusion;
  private DiffusionSampler sampler;
  private DiffusionSampler emaSampler;
  private final Map<String, ForwardGraph> forwardGraphs = new HashMap<>();
  private final AutoCloseable owned;
  private final Execution execution;

  private record ForwardGraph(Placeholder<TFloat32> x, Placeholder<TFloat32> time,
      Placeholder<TFloat32> selfCond, Operand<TFloat32> out) {}

  /**
   * @param networkFactory builds the network in this model's graph
   * @param owned closed with this model (what a deferred network evaluates in), or null
   * @param sessions opens the session for the graph (in this process, or on a cluster's server)
   */
  private DiffusionModel(ModelConfig config, boolean withEma, Function<Ops, Network> networkFactory,
      AutoCloseable owned, Execution execution, Function<Graph, Session> sessions) {
    this.config = config;
    this.owned = owned;
    this.execution = execution;
    this.graph = new Graph();
    try {
      this.tf = execution.ops(graph);
      this.network = networkFactory.apply(tf);
      this.diffusion = config.diffusion() == null ? null : config.diffusion().create(network);
      // the EMA copy: same parameter names, its own variables
      this.emaNetwork = withEma ? config.network().create(tf.withSubScope("ema")) : null;
      this.emaDiffusion = withEma && diffusion != null ? config.diffusion().create(emaNetwork) : null;
      this.session = sessions.apply(graph);
      if (diffusion != null) {
        diffusion.attach(session);
      }
      if (emaDiffusion != null) {
        emaDiffusion.attach(session);
      }
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** A model with freshly initialised weights (PyTorch's initialisation, fixed by the seed). */
  public static DiffusionModel create(ModelConfig config, long seed) {
    return create(config, seed, false);
  }

  /**
   * As {@link #create(ModelConfig, long)}, optionally with an EMA copy of the network that
   * starts equal to it (for training).
   */
  public static DiffusionModel create(ModelConfig config, long seed, boolean withEma) {
    return create(config, seed, withEma, Execution.CPU);
  }

  /** As {@link #create(ModelConfig, long, boolean)}, run as {@code execution} says. */
  public static DiffusionModel create(ModelConfig config, long seed, boolean withEma, Execution execution) {
    return create(config, seed, withEma, execution, execution::session);
  }

  /** As {@link #create(ModelConfig, long, boolean, Execution)}, its session made by {@code sessions} (on a cluster's server). */
  public static DiffusionModel create(ModelConfig config, long seed, boolean withEma, Execution execution,
      Function<Graph, Session> sessions) {
    DiffusionModel m = new DiffusionModel(config, withEma, tf -> config.network().create(tf), null, execution,
        sessions);
    m.network.parameters().initialize(m.session, seed);
    if (withEma) {
      m.emaNetwork.parameters().write(m.session, m.weights());
    }
    return m;
  }

  /** Loads a model folder: config.json and the weights asked for. */
  public static DiffusionModel load(Path folder, Weights weights) throws IOException {
    return load(folder, weights, Execution.CPU);
  }

  /** As {@link #load(Path, Weights)}, run as {@code execution} says. */
  public static DiffusionModel load(Path folder, Weights weights, Execution execution) throws IOException {
    if (!Files.isDirectory(folder)) {
      throw new FileNotFoundException(Files.exists(folder) ? folder + " is a file, not a model folder"
          + " (config.json and weights)" : "model folder " + folder + " does not exist");
    }
    if (Files.exists(folder.resolve("saved_model.pb"))) {
      // SavedModels are read by the export package, which sits above this one
      throw new IllegalArgumentException(folder + " is a SavedModel, not a model folder: load it with"
          + " SavedModelImport.load, or ModelLoader.load, which takes either");
    }
    ModelConfig config = ModelConfig.read(folder.resolve(CONFIG));
    Path file = weightsFile(folder, weights);
    Map<String, FloatArray> arrays = Safetensors.read(file);
    DiffusionModel m = new DiffusionModel(config, false, tf -> config.network().create(tf), null, execution,
        execution::session);
    try {
      m.loadWeights(arrays);
    } catch (IllegalArgumentException e) {
      m.close();
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
    return m;
  }

  /**
   * A model whose network is evaluated outside its graph by {@code evaluator}, as a SavedModel's
   * {@code denoise} signature is: {@code config} tells what the network takes and which diffusion
   * to run around it. {@code owned}, what the evaluator runs in, is closed with the model.
   */
  public static DiffusionModel deferred(ModelConfig config, DeferredNetwork.Evaluator evaluator, AutoCloseable owned,
      Execution execution) {
    return new DiffusionModel(config, false, tf -> new DeferredNetwork(config.network(), tf, evaluator), owned,
        execution, execution::session);
  }

  static Path weightsFile(Path folder, Weights weights) throws IOException {
    Path ema = folder.resolve(EMA_WEIGHTS);
    Path model = folder.resolve(MODEL_WEIGHTS);
    Path file = switch (weights) {
      case EMA -> ema;
      case MODEL -> model;
      case PREFER_EMA -> Files.exists(ema) ? ema : model;
    };
    if (!Files.isRegularFile(file)) {
      throw new FileNotFoundException("model folder " + folder + " has no " + file.getFileName());
    }
    return file;
  }

  public ModelConfig config() {
    return config;
  }

  /** The device, precision and compilation this model's graphs run with. */
  public Execution execution() {
    return execution;
  }

  public Network network() {
    return network;
  }

  public Optional<Diffusion> diffusion() {
    return Optional.ofNullable(diffusion);
  }

  public Session session() {
    return session;
  }

  public Ops ops() {
    return tf;
  }

  public Graph graph() {
    return graph;
  }

  /** The weights in PyTorch's names and layout. */
  public Map<String, FloatArray> weights() {
    return requireWeights().read(session);
  }

  public void loadWeights(Map<String, FloatArray> arrays) {
    requireWeights().write(session, arrays);
  }

  private Parameters requireWeights() {
    if (network instanceof DeferredNetwork) {
      throw new IllegalStateException("this model samples through a SavedModel's signature: its weights stay in the"
          + " SavedModel and cannot be read or written here");
    }
    return network.parameters();
  }

  /** The EMA network, present when the model was created for training. */
  public Optional<Network> emaNetwork() {
    return Optional.ofNullable(emaNetwork);
  }

  public Map<String, FloatArray> emaWeights() {
    return requireEma().parameters().read(session);
  }

  private Network requireEma() {
    if (emaNetwork == null) {
      throw new IllegalStateException("this model was created without an EMA copy");
    }
    return emaNetwork;
  }

  /**
   * Writes config.json, model.safetensors and, with an EMA copy, ema.safetensors, each to a
   * temporary name renamed into place.
   */
  public void save(Path folder) throws IOException {
    Map<String, FloatArray> weights = weights();
    Files.createDirectories(folder);
    Safetensors.write(folder.resolve(MODEL_WEIGHTS), weights, Map.of("format", "pt"));
    if (emaNetwork != null) {
      Safetensors.write(folder.resolve(EMA_WEIGHTS), emaWeights(), Map.of("format", "pt"));
    }
    AtomicFiles.writeString(folder.resolve(CONFIG), config.toJsonString());
  }

  /** The sampler over this model's diffusion; the model must have a diffusion part. */
  public DiffusionSampler sampler() {
    if (sampler == null) {
      sampler = new SessionDriver(tf, session, requireDiffusion());
    }
    return sampler;
  }

  /** The sampler over the EMA network (training's sample grids). */
  public DiffusionSampler emaSampler() {
    requireEma();
    if (emaSampler == null) {
      requireDiffusion();
      emaSampler = new SessionDriver(tf.withSubScope("ema"), session, emaDiffusion);
    }
    return emaSampler;
  }

  private Diffusion requireDiffusion() {
    if (diffusion == null) {
      throw new IllegalStateException("config.json has no \"diffusion\" section: a bare network cannot be sampled");
    }
    return diffusion;
  }

  /**
   * One evaluation of the network (inference mode): the raw output for a batch.
   *
   * @param selfCond null, or the self-conditioning input of a self-conditioned network
   */
  public FloatArray forward(FloatArray x, float[] time, FloatArray selfCond) {
    if (x.shape().length < 2 || x.shape()[0] != time.length) {
      throw new IllegalArgumentException("x " + Arrays.toString(x.shape()) + " and time [" + time.length
          + "] must have the same batch size");
    }
    long[] perExample = Arrays.copyOfRange(x.shape(), 1, x.shape().length);
    String key = Arrays.toString(perExample) + (selfCond != null);
    ForwardGraph g = forwardGraphs.computeIfAbsent(key, k -> buildForward(perExample, selfCond != null));
    try (TFloat32 tx = Tensors.of(x); TFloat32 tt = TFloat32.vectorOf(time);
        TFloat32 ts = selfCond == null ? null : Tensors.of(selfCond)) {
      StepRun r = StepRun.of(session, network).feed(g.x(), tx).feed(g.time(), tt);
      if (ts != null) {
        r.feed(g.selfCond(), ts);
      }
      try (Result res = r.fetch(g.out()).run()) {
        return Tensors.toArray((TFloat32) res.get(0));
      }
    }
  }

  private ForwardGraph buildForward(long[] perExample, boolean withSelfCond) {
    Ops f = tf.withSubScope("forward");
    long[] shape = Tensors.batchShape(-1, perExample);
    Placeholder<TFloat32> x = f.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
    Placeholder<TFloat32> time = f.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
    Placeholder<TFloat32> selfCond = withSelfCond
        ? f.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape))) : null;
    Operand<TFloat32> out = network.apply(f, x, time, selfCond, Forward.inference());
    return new ForwardGraph(x, time, selfCond, out);
  }

  @Override
  public void close() {
    session.close();
    graph.close();
    if (owned != null) {
      try {
        owned.close();
      } catch (Exception e) {
        throw new IllegalStateException("closing " + owned + " failed", e);
      }
    }
  }
}
