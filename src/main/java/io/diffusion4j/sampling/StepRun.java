package io.diffusion4j.sampling;

import io.diffusion4j.models.DeferredNetwork;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Upstream;
import io.diffusion4j.runtime.Tracing;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;

/**
 * One run of a sampler's graph. With a network in the graph it is one session run; with a
 * {@link DeferredNetwork} (a SavedModel's signature) it first fetches the inputs of each network
 * call the fetches need, evaluates them, and feeds the outputs to the final run.
 */
public final class StepRun {
  private final Session session;
  private final DeferredNetwork deferred;
  private final Map<Output<?>, Tensor> feeds = new LinkedHashMap<>();
  private final List<Operand<?>> fetches = new ArrayList<>();

  private StepRun(Session session, DeferredNetwork deferred) {
    this.session = session;
    this.deferred = deferred;
  }

  public static StepRun of(Session session, Network network) {
    return new StepRun(session, network instanceof DeferredNetwork d ? d : null);
  }

  public StepRun feed(Operand<?> operand, Tensor tensor) {
    feeds.put(operand.asOutput(), tensor);
    return this;
  }

  public StepRun fetch(Operand<?> operand) {
    fetches.add(operand);
    return this;
  }

  /** Runs; the caller owns (closes) the Result. */
  public Result run() {
    Map<Output<?>, Tensor> evaluated = new LinkedHashMap<>();
    List<Result> held = new ArrayList<>();
    try {
      for (DeferredNetwork.Call call : needed()) {
        // inputs that are fed are taken as they are (TensorFlow refuses to fetch a fed tensor)
        Session.Runner inputs = runner(evaluated);
        List<Output<?>> fetched = call.inputs().stream().<Output<?>>map(Operand::asOutput)
            .filter(o -> !feeds.containsKey(o) && !evaluated.containsKey(o)).toList();
        fetched.forEach(inputs::fetch);
        try (Result in = fetched.isEmpty() ? null : inputs.run()) {
          List<Tensor> values = new ArrayList<>();
          for (Operand<?> input : call.inputs()) {
            Output<?> o = input.asOutput();
            Tensor given = feeds.containsKey(o) ? feeds.get(o) : evaluated.get(o);
            values.add(given != null ? given : in.get(fetched.indexOf(o)));
          }
          Result out = deferred.evaluate(call, values);
          held.add(out);
          evaluated.put(call.output().asOutput(), out.get(0));
        }
      }
      Session.Runner main = runner(evaluated);
      fetches.forEach(main::fetch);
      return Tracing.run(main);
    } finally {
      held.forEach(Result::close);
    }
  }

  private Session.Runner runner(Map<Output<?>, Tensor> evaluated) {
    Session.Runner r = session.runner();
    feeds.forEach(r::feed);
    evaluated.forEach(r::feed);
    return r;
  }

  /** The network calls the fetches depend on, in the order they were built. */
  private List<DeferredNetwork.Call> needed() {
    if (deferred == null) {
      return List.of();
    }
    Set<GraphOperation> upstream = Upstream.of(fetches);
    return deferred.calls().stream().filter(c -> upstream.contains((GraphOperation) c.output().op())).toList();
  }
}
