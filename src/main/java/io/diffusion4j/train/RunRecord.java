package io.diffusion4j.train;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.io.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a run writes about itself in its results folder: a line of metrics.jsonl and TensorBoard
 * scalars at every logged step, the FD at every score, the sample grid at every save. A resumed
 * run drops what its interrupted predecessor logged past the checkpoint.
 */
final class RunRecord implements AutoCloseable {
  private final Path folder;
  private TensorBoardLog tensorBoard;

  RunRecord(Path folder) {
    this.folder = folder;
  }

  /** Drops metrics logged after {@code step}, the checkpoint a resumed run restarts from. */
  void truncate(long step) throws IOException {
    Path file = folder.resolve(Trainer.METRICS);
    if (!Files.exists(file)) {
      return;
    }
    StringBuilder kept = new StringBuilder();
    for (String line : Files.readAllLines(file)) {
      try {
        if (!line.isBlank() && JsonParser.parseString(line).getAsJsonObject().get("step").getAsLong() <= step) {
          kept.append(line).append('\n');
        }
      } catch (RuntimeException e) {
        throw new UncheckedIOException(new IOException(file + " has a damaged line: " + line, e));
      }
    }
    AtomicFiles.writeString(file, kept.toString());
  }

  /** Opens {@code <folder>/logs}; a run resumed at {@code startStep} first tells TensorBoard to drop what followed. */
  void open(long startStep) throws IOException {
    tensorBoard = new TensorBoardLog(folder.resolve(Trainer.LOGS));
    if (startStep > 0) {
      tensorBoard.restart(startStep);
    }
  }

  /** One logged step; {@code loss} is null in metrics.jsonl when it is not finite (JSON has no NaN). */
  void step(long stepsDone, float loss, double lr, float gradNorm, double stepsPerSecond, long skipped,
      double elapsed) throws IOException {
    JsonObject line = new JsonObject();
    line.addProperty("step", stepsDone);
    if (Float.isFinite(loss)) {
      line.addProperty("loss", loss);
    } else {
      line.add("loss", JsonNull.INSTANCE);
    }
    line.addProperty("lr", lr);
    line.addProperty("skipped_steps", skipped);
    // plain decimals: Gson would print large doubles in scientific notation
    line.addProperty("time", BigDecimal.valueOf(System.currentTimeMillis(), 3));
    line.addProperty("elapsed", BigDecimal.valueOf(Math.round(elapsed * 1000), 3));
    append(line);
    Map<String, Double> scalars = new LinkedHashMap<>();
    scalars.put("loss", (double) loss);
    scalars.put("lr", lr);
    scalars.put("grad_norm", (double) gradNorm);
    scalars.put("steps_per_s", stepsPerSecond);
    scalars.put("skipped_steps", (double) skipped);
    tensorBoard.scalars(stepsDone, scalars);
  }

  /** A score: the FD of {@code numSamples} samples against {@code numData} examples in {@code network}'s features. */
  void fd(long stepsDone, double fd, String network, long numSamples, long numData) throws IOException {
    JsonObject line = new JsonObject();
    line.addProperty("step", stepsDone);
    line.addProperty("fd", fd);
    line.addProperty("network", network);
    line.addProperty("num_samples", numSamples);
    line.addProperty("num_data", numData);
    append(line);
    tensorBoard.scalars(stepsDone, Map.of("fd", fd));
  }

  void samples(long stepsDone, BufferedImage grid) throws IOException {
    tensorBoard.image(stepsDone, "samples", grid);
  }

  void flush() {
    tensorBoard.flush();
  }

  private void append(JsonObject line) throws IOException {
    Files.createDirectories(folder);
    Files.writeString(folder.resolve(Trainer.METRICS), line + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Override
  public void close() {
    if (tensorBoard != null) {
      tensorBoard.close();
      tensorBoard = null;
    }
  }
}
