package io.diffusion4j.sampling;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;

/**
 * The tensors a sampler carries from one session run to the next, kept native. A Result owns its
 * tensors, so the previous step's Result stays open until the next step has consumed them.
 */
final class Carry implements AutoCloseable {
  /** How a sampler turns a carried sample into data-space images: feed {@code x}, fetch {@code images}. */
  record Readout(Session session, Operand<TFloat32> x, Operand<TFloat32> images) {}

  private final Tensor start;
  private final Readout readout;
  private Result result;

  /** @param start the first sample, owned (closed) by this carry */
  Carry(Tensor start, Readout readout) {
    this.start = start;
    this.readout = readout;
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

  /** The current sample (output 0) in data space, copied to the JVM. */
  FloatArray images() {
    try (Result r = readout.session().runner().feed(readout.x(), get(0)).fetch(readout.images()).run()) {
      return Tensors.toArray((TFloat32) r.get(0));
    }
  }

  /** Appends the current sample to {@code everyStep} when every step is asked for. */
  void record(List<FloatArray> everyStep) {
    if (everyStep != null) {
      everyStep.add(images());
    }
  }

  @Override
  public void close() {
    start.close();
    if (result != null) {
      result.close();
    }
  }
}
