package io.diffusion4j.models;

import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * A network evaluated outside the graph that uses it, such as a SavedModel's {@code denoise}
 * signature in its own session. Each {@link #apply} records a {@link Call}: its inputs stay
 * operands of this graph and its output is a placeholder, which whoever runs the graph feeds
 * with {@link #evaluate}'s result (see the samplers' step runs).
 */
public final class DeferredNetwork implements Network {

  /** Evaluates the network on concrete inputs; {@code selfCond} and {@code classLabels} may be null. */
  @FunctionalInterface
  public interface Evaluator {
    /** @return a Result whose first tensor is the network's output */
    Result evaluate(Tensor x, Tensor time, Tensor selfCond, Tensor classLabels);
  }

  /** One use of the network in the graph: what to fetch for it, and the placeholder for its output. */
  public record Call(List<Operand<?>> inputs, boolean hasSelfCond, boolean hasClassLabels,
      Placeholder<TFloat32> output) {}

  private final Network described;
  private final Evaluator evaluator;
  private final Parameters parameters;
  private final List<Call> calls = new ArrayList<>();

  /**
   * @param config the network's config, which tells its channels, conditioning and time input
   * @param tf the graph the network will be used in
   */
  public DeferredNetwork(NetworkConfig config, Ops tf, Evaluator evaluator) {
    // the metadata methods of a network depend on its config alone; its weights are not needed
    try (Graph scratch = new Graph()) {
      this.described = config.create(Ops.create(scratch));
    }
    this.evaluator = evaluator;
    this.parameters = new Parameters(tf);
  }

  @Override
  public NetworkConfig config() {
    return described.config();
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  /** Evaluates {@code call} on tensors for its inputs, in the order of {@link Call#inputs}. */
  public Result evaluate(Call call, List<Tensor> inputs) {
    int i = 2;
    Tensor selfCond = call.hasSelfCond() ? inputs.get(i++) : null;
    Tensor labels = call.hasClassLabels() ? inputs.get(i) : null;
    return evaluator.evaluate(inputs.get(0), inputs.get(1), selfCond, labels);
  }

  @Override
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TFloat32> time, Operand<TFloat32> selfCond,
      Operand<TInt64> classLabels, Forward fwd) {
    if (fwd.training()) {
      throw new IllegalStateException("a network evaluated outside the graph cannot be trained");
    }
    long[] shape = x.shape().asArray();
    if (shape == null || shape.length != spatialRank() + 2 || shape[shape.length - 1] != channels()) {
      throw new IllegalArgumentException("the network expects input [N, ..., " + channels() + "], got " + x.shape());
    }
    if (numClasses() > 0 && classLabels == null) {
      throw new IllegalArgumentException("the network is class-conditional: class labels are required");
    }
    List<Operand<?>> inputs = new ArrayList<>(List.of(x, time));
    if (selfCondition()) {
      inputs.add(selfCond != null ? selfCond : tf.zerosLike(x));
    }
    if (numClasses() > 0) {
      inputs.add(classLabels);
    }
    shape[shape.length - 1] = outDim();
    Placeholder<TFloat32> out = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
    calls.add(new Call(inputs, selfCondition(), numClasses() > 0, out));
    return out;
  }

  /** None: the weights live with the evaluator. */
  @Override
  public Parameters parameters() {
    return parameters;
  }

  @Override
  public void checkSpatialSize(long[] spatial) {
    described.checkSpatialSize(spatial);
  }
}
