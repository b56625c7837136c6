package io.diffusion4j.nn;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.op.Op;

/** The ops a session run of some targets executes: everything they depend on, data or control. */
public final class Upstream {
  private Upstream() {}

  public static Set<GraphOperation> of(Collection<? extends Op> targets) {
    Set<GraphOperation> seen = new HashSet<>();
    Deque<GraphOperation> todo = new ArrayDeque<>();
    targets.forEach(t -> todo.push((GraphOperation) t.op()));
    while (!todo.isEmpty()) {
      GraphOperation op = todo.pop();
      if (seen.add(op)) {
        for (int i = 0; i < op.numInputs(); i++) {
          todo.push((GraphOperation) op.input(i).op());
        }
        todo.addAll(op.controlInputs());
      }
    }
    return seen;
  }
}
