package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * A position in a network's parameter tree, such as {@code downs.0.2}: layers create their
 * parameters through it, so names come out exactly as PyTorch's module paths.
 */
public final class ParamScope {
  private final Parameters store;
  private final String prefix;

  ParamScope(Parameters store, String prefix) {
    this.store = store;
    this.prefix = prefix;
  }

  public ParamScope child(String name) {
    return new ParamScope(store, prefix.isEmpty() ? name : prefix + "." + name);
  }

  public ParamScope child(int index) {
    return child(Integer.toString(index));
  }

  public Operand<TFloat32> param(String name, ParamLayout layout, Init init) {
    return store.create(child(name).prefix, layout, init, true);
  }

  /** A parameter that is saved and counted but not trained (requires_grad=False in PyTorch). */
  public Operand<TFloat32> frozenParam(String name, ParamLayout layout, Init init) {
    return store.create(child(name).prefix, layout, init, false);
  }

  public String path() {
    return prefix;
  }
}
