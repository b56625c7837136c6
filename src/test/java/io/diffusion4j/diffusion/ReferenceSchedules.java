package io.diffusion4j.diffusion;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.io.ConfigRecords;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * src/test/resources/reference/schedules.json: the reference's own float64 betas (T = 10) and the
 * float32 buffers its GaussianDiffusion registers for three configurations (see the README next to
 * it). NaN entries (the linear schedule at T = 10 has betas above 1) are kept as NaN.
 */
final class ReferenceSchedules {
  static final Path FILE = Path.of("src/test/resources/reference/schedules.json");

  /** One diffusion_buffers entry. */
  record Buffers(JsonObject config, JsonObject values) {
    double[] get(String name) {
      return doubles(values.getAsJsonArray(name));
    }

    Objective objective() {
      return ConfigRecords.choice(Objective.class, "objective", config.get("objective").getAsString());
    }

    BetaSchedule betaSchedule() {
      return ConfigRecords.choice(BetaSchedule.class, "beta_schedule", config.get("beta_schedule").getAsString());
    }

    int timesteps() {
      return config.get("timesteps").getAsInt();
    }

    /** The min-SNR gamma when the config turns min-SNR weighting on, else null. */
    Double minSnrGamma() {
      boolean on = config.has("min_snr_loss_weight") && config.get("min_snr_loss_weight").getAsBoolean();
      return on ? config.get("min_snr_gamma").getAsDouble() : null;
    }

    @Override
    public String toString() {
      return config.toString();
    }
  }

  private ReferenceSchedules() {}

  static JsonObject root() {
    try {
      // JsonParser is lenient: it reads the NaN literals Python's json module writes
      return JsonParser.parseString(Files.readString(FILE)).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int timesteps() {
    return root().get("timesteps").getAsInt();
  }

  /** Keys: linear, cosine, sigmoid, sigmoid_start-2_end2_tau0.5. */
  static double[] betas(String key) {
    return doubles(root().getAsJsonObject("betas").getAsJsonArray(key));
  }

  static List<Buffers> buffers() {
    List<Buffers> out = new ArrayList<>();
    for (JsonElement e : root().getAsJsonArray("diffusion_buffers")) {
      JsonObject o = e.getAsJsonObject();
      out.add(new Buffers(o.getAsJsonObject("config"), o));
    }
    return out;
  }

  static double[] doubles(JsonArray a) {
    double[] d = new double[a.size()];
    for (int i = 0; i < d.length; i++) {
      JsonElement e = a.get(i);
      d[i] = e.getAsJsonPrimitive().isNumber() ? e.getAsDouble() : Double.parseDouble(e.getAsString());
    }
    return d;
  }
}
