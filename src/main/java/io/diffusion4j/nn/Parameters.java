package io.diffusion4j.nn;

import io.diffusion4j.io.FloatArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The variables of one network, keyed by the names PyTorch's {@code state_dict()} gives the same
 * network, listed in state_dict order. Variables are VariableV2: resource
 * variables are skipped by Session.save and the SavedModel exporter.
 *
 * <p>Reading and writing go through named arrays in PyTorch's layout; the conversion to the
 * channels-last TensorFlow layout happens here and nowhere else.
 */
public final class Parameters {

  /**
   * One parameter: its value in the graph (a variable, or a bound operand), how its layouts
   * relate, how it starts, whether it trains.
   */
  public record Param(String name, Operand<TFloat32> value, ParamLayout layout, Init init,
      boolean trainable) {

    /** The variable that holds this parameter; bound parameters have none. */
    public Variable<TFloat32> variable() {
      if (value instanceof Variable<TFloat32> v) {
        return v;
      }
      throw new IllegalStateException("parameter " + name + " is bound to an operand, not held in a variable");
    }
  }

  private final Ops tf;
  private final Function<String, Operand<TFloat32>> bound;
  private final Map<String, Param> params = new LinkedHashMap<>();
  private Placeholder<TInt64> initSeed;
  private Op initOp;
  private final Map<String, Placeholder<TFloat32>> loadFeeds = new LinkedHashMap<>();
  private Op loadOp;

  /** Parameters held in variables of {@code tf}'s graph. */
  public Parameters(Ops tf) {
    this(tf, null);
  }

  private Parameters(Ops tf, Function<String, Operand<TFloat32>> bound) {
    this.tf = tf;
    this.bound = bound;
  }

  /**
   * Parameters whose values are given operands, looked up by name as the network asks for them:
   * a network built on these evaluates with weights that flow in as tensors, as inside a while
   * loop's body, which cannot read the outer graph's variables. Each operand gets the
   * parameter's static shape, which layers rely on.
   */
  public static Parameters bound(Ops tf, Function<String, Operand<TFloat32>> values) {
    return new Parameters(tf, values);
  }

  /** The root scope: parameter names start here. */
  public ParamScope scope() {
    return new ParamScope(this, "");
  }

  Operand<TFloat32> create(String name, ParamLayout layout, Init init, boolean trainable) {
    if (params.containsKey(name)) {
      throw new IllegalStateException("parameter " + name + " is defined twice");
    }
    if (initOp != null) {
      throw new IllegalStateException("parameter " + name + " added after initialisation was built");
    }
    Shape shape = Shape.of(layout.tfShape());
    Operand<TFloat32> v = bound != null ? tf.ensureShape(bound.apply(name), shape)
        : tf.withName(name).variable(shape, TFloat32.class);
    params.put(name, new Param(name, v, layout, init, trainable));
    return v;
  }

  /**
   * Every parameter in PyTorch's state_dict order: depth first, a module's own parameters before
   * its children's, children in the order they were first registered.
   */
  public List<Param> all() {
    Node root = new Node();
    for (Param p : params.values()) {
      Node node = root;
      String[] parts = p.name().split("\\.");
      for (int i = 0; i < parts.length - 1; i++) {
        node = node.children.computeIfAbsent(parts[i], k -> new Node());
      }
      node.own.add(p);
    }
    List<Param> out = new ArrayList<>();
    root.collect(out);
    return out;
  }

  private static final class Node {
    final List<Param> own = new ArrayList<>();
    final Map<String, Node> children = new LinkedHashMap<>();

    void collect(List<Param> out) {
      out.addAll(own);
      children.values().forEach(c -> c.collect(out));
    }
  }

  public List<Param> trainable() {
    return all().stream().filter(Param::trainable).toList();
  }

  public Param get(String name) {
    Param p = params.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no parameter named " + name);
    }
    return p;
  }

  /** Number of scalar values in all parameters, trainable or not (as PyTorch's numel sum). */
  public long count() {
    return params.values().stream().mapToLong(p -> p.layout().size()).sum();
  }

  public long trainableCount() {
    return trainable().stream().mapToLong(p -> p.layout().size()).sum();
  }

  /** Sets every parameter to its PyTorch-style initial value; the same seed gives the same values. */
  public void initialize(Session session, long seed) {
    if (initOp == null) {
      Ops init = tf.withSubScope("param_init");
      initSeed = init.placeholder(TInt64.class);
      List<Op> assigns = new ArrayList<>();
      int index = 0;
      for (Param p : params.values()) {
        Operand<TInt64> s = init.stack(List.of(initSeed, init.constant((long) index++)));
        assigns.add(init.assign(p.variable(), p.init().build(init, p.layout().tfShape(), s)));
      }
      initOp = init.withControlDependencies(assigns).noOp();
    }
    try (TInt64 s = TInt64.scalarOf(seed)) {
      session.runner().feed(initSeed, s).addTarget(initOp).run().close();
    }
  }

  /** All parameters in PyTorch's layout and names, in state_dict order. */
  public Map<String, FloatArray> read(Session session) {
    return read(session, all().stream().map(Param::variable).toList());
  }

  /**
   * Values kept in the parameters' shapes (one per parameter, in the order of {@link #all}: an
   * average of them, say), under the parameters' names and in PyTorch's layout.
   */
  public Map<String, FloatArray> read(Session session, List<? extends Operand<TFloat32>> values) {
    Map<String, FloatArray> out = new LinkedHashMap<>();
    List<Param> list = all();
    if (values.size() != list.size()) {
      throw new IllegalArgumentException(values.size() + " values for " + list.size() + " parameters");
    }
    Session.Runner runner = session.runner();
    values.forEach(runner::fetch);
    try (Result result = runner.run()) {
      for (int i = 0; i < list.size(); i++) {
        Param p = list.get(i);
        float[] tfData = Tensors.toArray((TFloat32) result.get(i)).data();
        out.put(p.name(), new FloatArray(p.layout().torchShape().clone(), p.layout().toTorch(tfData)));
      }
    }
    return out;
  }

  /**
   * Sets every parameter from arrays in PyTorch's layout and names. The names must be exactly this
   * network's (none missing, none extra) and each shape must match.
   */
  public void write(Session session, Map<String, FloatArray> arrays) {
    checkNames(arrays.keySet());
    if (loadOp == null) {
      Ops load = tf.withSubScope("param_load");
      List<Op> assigns = new ArrayList<>();
      for (Param p : params.values()) {
        Placeholder<TFloat32> feed = load.placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(p.layout().tfShape())));
        loadFeeds.put(p.name(), feed);
        assigns.add(load.assign(p.variable(), feed));
      }
      loadOp = load.withControlDependencies(assigns).noOp();
    }
    List<Tensor> tensors = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (Param p : params.values()) {
        FloatArray a = arrays.get(p.name());
        if (!Arrays.equals(a.shape(), p.layout().torchShape())) {
          throw new IllegalArgumentException("parameter " + p.name() + " has shape "
              + Arrays.toString(a.shape()) + ", the network expects "
              + Arrays.toString(p.layout().torchShape()));
        }
        TFloat32 t = Tensors.of(p.layout().tfShape(), p.layout().toTf(a.data()));
        tensors.add(t);
        runner.feed(loadFeeds.get(p.name()), t);
      }
      runner.addTarget(loadOp).run().close();
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  private void checkNames(Set<String> given) {
    TreeSet<String> missing = new TreeSet<>(params.keySet());
    missing.removeAll(given);
    TreeSet<String> extra = new TreeSet<>(given);
    extra.removeAll(params.keySet());
    if (!missing.isEmpty() || !extra.isEmpty()) {
      StringBuilder msg = new StringBuilder("weights do not match the network:");
      if (!missing.isEmpty()) {
        msg.append(" missing ").append(abbreviate(missing));
      }
      if (!extra.isEmpty()) {
        msg.append(missing.isEmpty() ? "" : ";").append(" unexpected ").append(abbreviate(extra));
      }
      throw new IllegalArgumentException(msg.toString());
    }
  }

  private static String abbreviate(TreeSet<String> names) {
    List<String> list = new ArrayList<>(names);
    String head = String.join(", ", list.subList(0, Math.min(5, list.size())));
    return list.size() > 5 ? head + " and " + (list.size() - 5) + " more" : head;
  }

  /** Names in state_dict order. */
  public List<String> names() {
    return all().stream().map(Param::name).toList();
  }
}
