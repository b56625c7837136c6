package io.diffusion4j.train.posthoc;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Safetensors;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The snapshots of power-function EMA profiles in a model folder:
 * {@code post-hoc-ema/ema-SIGMA_REL-STEP.safetensors}, weights keyed as ema.safetensors, with the
 * step, sigma_rel and gamma in the safetensors metadata (which is what is read back: the name
 * is for people and for listing).
 */
public final class Snapshots {
  public static final String FOLDER = "post-hoc-ema";
  private static final Pattern NAME = Pattern.compile("ema-[0-9.]+-\\d+\\.safetensors");

  private Snapshots() {}

  /** One snapshot file: the profile it holds. */
  public record Snapshot(Path file, long step, double sigmaRel, double gamma) {
    public PowerFunction.Profile profile() {
      return new PowerFunction.Profile(step, gamma);
    }
  }

  /** The file of a profile's snapshot at {@code step}: sigma_rel with at least three decimals, as EDM2 names them. */
  public static Path file(Path folder, double sigmaRel, long step) {
    BigDecimal s = BigDecimal.valueOf(sigmaRel);
    return folder.resolve(FOLDER).resolve(String.format(Locale.ROOT, "ema-%s-%09d.safetensors",
        s.setScale(Math.max(3, s.scale())).toPlainString(), step));
  }

  /** Writes one profile's weights at {@code step}, atomically. */
  public static void write(Path folder, double sigmaRel, double gamma, long step, Map<String, FloatArray> weights)
      throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("step", Long.toString(step));
    meta.put("sigma_rel", Double.toString(sigmaRel));
    meta.put("gamma", Double.toString(gamma));
    Safetensors.write(file(folder, sigmaRel, step), weights, meta);
  }

  /** The snapshots in {@code folder}, by step then sigma_rel; empty when it has none. */
  public static List<Snapshot> list(Path folder) throws IOException {
    Path dir = folder.resolve(FOLDER);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Snapshot> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(f -> NAME.matcher(f.getFileName().toString()).matches()).toList()) {
        out.add(read(f));
      }
    }
    out.sort(Comparator.comparingLong(Snapshot::step).thenComparingDouble(Snapshot::sigmaRel));
    return out;
  }

  private static Snapshot read(Path file) throws IOException {
    Map<String, String> meta = Safetensors.readMetadata(file);
    try {
      return new Snapshot(file, Long.parseLong(meta.getOrDefault("step", "")),
          Double.parseDouble(meta.getOrDefault("sigma_rel", "")), Double.parseDouble(meta.getOrDefault("gamma", "")));
    } catch (NumberFormatException e) {
      throw new IOException(file + " is not a post-hoc EMA snapshot: its metadata lacks a numeric step, sigma_rel"
          + " or gamma (" + meta + ")", e);
    }
  }

  /**
   * Deletes the snapshots after {@code step}: a run resumed from its checkpoint at that step
   * makes them again, and those of an interrupted future must not outlive a shorter resumed run.
   */
  public static void removeAfter(Path folder, long step) throws IOException {
    for (Snapshot s : list(folder)) {
      if (s.step() > step) {
        Files.delete(s.file());
      }
    }
  }
}
