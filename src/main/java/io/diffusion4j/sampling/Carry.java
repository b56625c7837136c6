package io.diffusion4j.sampling;

import org.tensorflow.Result;
import org.tensorflow.Tensor;

/**
 * The tensors a sampler carries from one session run to the next, kept native. A Result owns its
 * tensors, so the previous step's Result stays open until the next step has consumed them.
 */
final class Carry implements AutoCloseable {
  private final Tensor start;
  private Result result;

  /** @param start the first sample, owned (closed) by this carry */
  Carry(Tensor start) {
    this.start = start;
  }

  /** Output {@code index} of the last run; before any run, index 0 is the start. */
  Tensor get(int index) {
    if (result == null) {
      if (index != 0) {
        throw new IllegalStateException("no run yet: only the start is carried");
      }
      return start;
    }
    return result.get(index);
  }

  boolean started() {
    return result != null;
  }

  /** Takes the next run's outputs, freeing the previous ones. */
  void advance(Result next) {
    if (result != null) {
      result.close();
    }
    result = next;
  }

  @Override
  public void close() {
    start.close();
    if (result != null) {
      result.close();
    }
  }
}
