package io.diffusion4j.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.diffusion4j.Version;
import io.diffusion4j.io.AtomicFiles;
import io.diffusion4j.io.IOConsumer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * Training checkpoints in a results folder: {@code checkpoint-<step>/} holds every variable of
 * the graph (weights, EMA weights, optimiser state) as a TensorFlow checkpoint plus
 * {@code trainer.json} (step, options, library version); {@code checkpoint.json} names the latest.
 * Each checkpoint is written under a temporary name and renamed into place, and the pointer is
 * replaced atomically, so an interruption at any moment leaves the previous checkpoint usable.
 *
 * <p>With save_best_and_latest_only, {@code checkpoint-best/} is kept besides the latest: the
 * checkpoint of the lowest FD so far (its trainer.json says which step and which score), which
 * also holds the model files (config.json and weights) so that it can be sampled as it is.
 */
public final class Checkpoints {
  public static final String POINTER = "checkpoint.json";
  public static final String BEST = "checkpoint-best";
  static final String STATE = "variables";
  static final String TRAINER = "trainer.json";

  private Checkpoints() {}

  /** What a checkpoint says about the run besides its variables. */
  public record Info(long step, TrainerOptions options, String version, Path directory) {}

  /** The best checkpoint's step and FD. */
  public record Best(long step, double fd) {}

  public static boolean exists(Path folder) {
    return Files.isRegularFile(folder.resolve(POINTER));
  }

  /** Writes checkpoint {@code step}, points checkpoint.json at it and removes the older ones. */
  public static void save(Path folder, Session session, long step, TrainerOptions options) throws IOException {
    String name = String.format(Locale.ROOT, "checkpoint-%09d", step);
    write(folder, name, session, step, options, new JsonObject(), dir -> {});
    JsonObject pointer = new JsonObject();
    pointer.addProperty("latest", name);
    pointer.addProperty("step", step);
    AtomicFiles.writeString(folder.resolve(POINTER), pointer.toString() + "\n");
    try (Stream<Path> old = Files.list(folder)) {
      for (Path p : old.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+")
          && !p.getFileName().toString().equals(name)).toList()) {
        AtomicFiles.deleteTree(p);
      }
    }
  }

  /**
   * Replaces {@value #BEST} with the checkpoint of {@code step}, whose FD was {@code fd};
   * {@code modelFiles} adds the files that make it a model folder.
   */
  public static void saveBest(Path folder, Session session, long step, TrainerOptions options, double fd,
      IOConsumer<Path> modelFiles) throws IOException {
    JsonObject extra = new JsonObject();
    extra.addProperty("fd", fd);
    write(folder, BEST, session, step, options, extra, modelFiles);
  }

  /** The best checkpoint's step and FD, when the folder has one. */
  public static Optional<Best> best(Path folder) throws IOException {
    Path info = folder.resolve(BEST).resolve(TRAINER);
    if (!Files.isRegularFile(info)) {
      return Optional.empty();
    }
    try {
      JsonObject json = JsonParser.parseString(Files.readString(info)).getAsJsonObject();
      return Optional.of(new Best(json.get("step").getAsLong(), json.get("fd").getAsDouble()));
    } catch (IllegalStateException | NullPointerException | UnsupportedOperationException
        | JsonParseException e) {
      throw new IOException(info + " is damaged: " + e.getMessage(), e);
    }
  }

  /** Checkpoint {@code name}: variables, trainer.json (with {@code extra}) and {@code files}, renamed into place. */
  private static void write(Path folder, String name, Session session, long step, TrainerOptions options,
      JsonObject extra, IOConsumer<Path> files) throws IOException {
    Path tmp = AtomicFiles.createTempDirectory(folder, "." + name + ".tmp-");
    try {
      session.save(tmp.resolve(STATE).toString());
      JsonObject info = new JsonObject();
      info.addProperty("step", step);
      info.addProperty("version", Version.current());
      info.add("options", options.toJson());
      extra.entrySet().forEach(e -> info.add(e.getKey(), e.getValue()));
      AtomicFiles.writeString(tmp.resolve(TRAINER), info.toString());
      files.accept(tmp);
      Path target = folder.resolve(name);
      if (Files.exists(target)) {
        AtomicFiles.deleteTree(target);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      AtomicFiles.deleteTree(tmp);
      throw e;
    } finally {
      AtomicFiles.settled(tmp);
    }
  }

  public static Info read(Path folder) throws IOException {
    Path pointer = folder.resolve(POINTER);
    if (!Files.isRegularFile(pointer)) {
      throw new IOException(folder + " has no checkpoint to resume (no " + POINTER + ")");
    }
    try {
      String name = JsonParser.parseString(Files.readString(pointer)).getAsJsonObject().get("latest").getAsString();
      Path dir = folder.resolve(name);
      JsonObject info = JsonParser.parseString(Files.readString(dir.resolve(TRAINER))).getAsJsonObject();
      return new Info(info.get("step").getAsLong(), TrainerOptions.fromJson(info.getAsJsonObject("options")),
          info.get("version").getAsString(), dir);
    } catch (IllegalStateException | NullPointerException | JsonParseException e) {
      throw new IOException(pointer + " or the checkpoint it names is damaged: " + e.getMessage(), e);
    }
  }

  /** TensorFlow's words for a variable the graph has and the checkpoint lacks. */
  private static final Pattern MISSING = Pattern.compile("Key (\\S+) not found in checkpoint");

  /**
   * Restores the checkpoint's variables into {@code session}. One written before this version's
   * training graph gained a variable lacks it and cannot go on: it is refused naming the variable
   * and both versions, not with TensorFlow's error.
   */
  public static void restore(Info info, Session session) throws IOException {
    try {
      session.restore(info.directory().resolve(STATE).toString());
    } catch (TensorFlowException e) {
      Matcher m = MISSING.matcher(String.valueOf(e.getMessage()));
      if (!m.find()) {
        throw e;
      }
      throw new IOException(info.directory() + " was written by diffusion4j " + info.version() + " and has no "
          + m.group(1) + ", which this version (" + Version.current() + ") trains with: it cannot be resumed;"
          + " start a new run, or sample from its model folder", e);
    }
  }

}
