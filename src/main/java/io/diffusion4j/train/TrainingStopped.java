package io.diffusion4j.train;

import java.nio.file.Path;

/**
 * A run ended at a step boundary because a signal asked it to stop (see
 * {@link io.diffusion4j.runtime.StopRequest}): {@code folder} holds the checkpoint of {@code step},
 * which {@link Trainer#resume} continues, or is null when the run had nothing to save yet.
 */
public final class TrainingStopped extends RuntimeException {
  private final long step;
  private final String signal;
  private final transient Path folder;

  public TrainingStopped(long step, String signal, Path folder) {
    super(folder == null ? "stopped by " + signal + " before the first step: nothing was saved"
        : "stopped at step " + step + " by " + signal + ": the checkpoint of step " + step + " is in " + folder);
    this.step = step;
    this.signal = signal;
    this.folder = folder;
  }

  public long step() {
    return step;
  }

  public String signal() {
    return signal;
  }

  /** The results folder holding the checkpoint of {@link #step()}, or null when nothing was saved. */
  public Path folder() {
    return folder;
  }
}
