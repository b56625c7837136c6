package io.diffusion4j.pipeline;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.diffusion4j.diffusion.ContinuousTimeConfig;
import io.diffusion4j.diffusion.DiffusionConfig;
import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.diffusion.XmWrapper;
import io.diffusion4j.io.JsonLocations;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.models.NetworkConfig;
import io.diffusion4j.sampling.Solvers;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A model folder's config.json: the network and, optionally, the diffusion around it and a
 * wrapper of its training objective, each with the Python reference's type and option names.
 *
 * @param wrapper XMWrapper, or null
 */
public record ModelConfig(NetworkConfig network, DiffusionConfig diffusion, XmWrapper wrapper) {

  public ModelConfig(NetworkConfig network, DiffusionConfig diffusion) {
    this(network, diffusion, null);
  }

  public ModelConfig {
    if (network == null) {
      throw new IllegalArgumentException("a model config needs a network");
    }
    if (wrapper != null && diffusion == null) {
      throw new IllegalArgumentException("a \"wrapper\" wraps the diffusion: give config.json a \"diffusion\" section");
    }
    if (diffusion != null && diffusion.spatialRank() != network.spatialRank()) {
      throw new IllegalArgumentException("diffusion " + diffusion.type() + " does not fit model " + network.type());
    }
    if (diffusion != null && diffusion.sampler() != null) {
      try {
        Solvers.named(diffusion.sampler());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("diffusion.sampler = \"" + diffusion.sampler()
            + "\" is not allowed: expected one of " + Solvers.names(), e);
      }
    }
  }

  public static ModelConfig parse(String text) {
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("config.json is not valid JSON: " + e.getMessage(), e);
    }
    if (!root.isJsonObject() || !root.getAsJsonObject().has("model")
        || !root.getAsJsonObject().get("model").isJsonObject()) {
      throw new IllegalArgumentException("config.json must be an object with a \"model\" object"
          + " (and optionally \"diffusion\" and \"wrapper\" objects)");
    }
    JsonOptions top = new JsonOptions("config", root.getAsJsonObject());
    NetworkConfig network = NetworkConfig.fromJson(top.get("model").getAsJsonObject());
    DiffusionConfig diffusion = null;
    if (top.has("diffusion")) {
      JsonElement d = top.get("diffusion");
      if (!d.isJsonObject()) {
        throw top.bad("diffusion", d, "an object");
      }
      diffusion = diffusionFromJson(d.getAsJsonObject(), network);
    }
    XmWrapper wrapper = null;
    if (top.has("wrapper")) {
      JsonElement w = top.get("wrapper");
      if (!w.isJsonObject()) {
        throw top.bad("wrapper", w, "an object");
      }
      wrapper = XmWrapper.fromJson(new JsonOptions("wrapper", w.getAsJsonObject()));
    }
    top.finish();
    return new ModelConfig(network, diffusion, wrapper);
  }

  /** Every diffusion type config.json names, for errors. */
  private static final String DIFFUSION_TYPES = "GaussianDiffusion, GaussianDiffusion1D, "
      + Stream.concat(
          Arrays.stream(GaussianDiffusionConfig.Module.values()).map(GaussianDiffusionConfig.Module::type)
              .filter(Objects::nonNull),
          Stream.concat(Stream.of(ElucidatedDiffusionConfig.TYPE),
              Arrays.stream(ContinuousTimeConfig.Kind.values()).map(ContinuousTimeConfig.Kind::type)))
          .collect(Collectors.joining(", "));

  private static DiffusionConfig diffusionFromJson(JsonObject json, NetworkConfig network) {
    JsonOptions o = new JsonOptions("diffusion", json);
    String type = o.getString("type", null);
    ContinuousTimeConfig.Kind continuous = ContinuousTimeConfig.Kind.ofType(type);
    if (continuous != null) {
      DiffusionConfig c = ContinuousTimeConfig.fromJson(o, continuous, network.spatialRank(), network.channels());
      o.finish();
      return c;
    }
    GaussianDiffusionConfig.Module module = GaussianDiffusionConfig.Module.ofType(type);
    if (module == GaussianDiffusionConfig.Module.GUIDED && network.spatialRank() != 2) {
      throw new IllegalArgumentException("diffusion.type " + type + " does not fit model.type " + network.type());
    }
    DiffusionConfig c = switch (type == null ? "" : type) {
      case "GaussianDiffusion", "GaussianDiffusion1D" -> {
        int rank = type.equals("GaussianDiffusion") ? 2 : 1;
        if (rank != network.spatialRank()) {
          throw new IllegalArgumentException("diffusion.type " + type + " does not fit model.type " + network.type());
        }
        yield GaussianDiffusionConfig.fromJson(o, rank, GaussianDiffusionConfig.Module.PLAIN);
      }
      case ElucidatedDiffusionConfig.TYPE -> ElucidatedDiffusionConfig.fromJson(o, network.spatialRank(), network.channels());
      default -> {
        if (module == null) {
          throw o.bad("type", type == null ? "(missing)" : "\"" + type + "\"", DIFFUSION_TYPES);
        }
        yield GaussianDiffusionConfig.fromJson(o, network.spatialRank(), module);
      }
    };
    o.finish();
    return c;
  }

  /**
   * Reads a config.json; a bad or unknown option is reported with its line and column in the
   * file (invalid JSON with the parser's).
   */
  public static ModelConfig read(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString());
    } catch (MalformedInputException e) {
      throw new IOException(file + " is not a UTF-8 text file", e);
    }
    try {
      return parse(text);
    } catch (IllegalArgumentException e) {
      String place = place(text, e);
      throw new IllegalArgumentException(file + (place == null ? "" : " (" + place + ")") + ": " + e.getMessage(), e);
    }
  }

  /**
   * Where the option a failure names sits in the text: the option's path when the reader knew it,
   * else a key named at the start of the message ("dim = 0 must be ...") when only one key has
   * that name.
   */
  private static String place(String text, IllegalArgumentException e) {
    Map<String, String> places = JsonLocations.of(text);
    if (e instanceof JsonOptions.Invalid invalid && places.containsKey(invalid.path())) {
      return places.get(invalid.path());
    }
    Matcher m = Pattern.compile("^(?:[a-z]+[.:] ?)?([A-Za-z_]+) = ")
        .matcher(e.getMessage() == null ? "" : e.getMessage());
    if (m.find()) {
      List<String> hits = places.keySet().stream().filter(k -> k.endsWith("." + m.group(1))).toList();
      return hits.size() == 1 ? places.get(hits.get(0)) : null;
    }
    return null;
  }

  /** Shape of one example the diffusion makes, channels-last: [h, w, c] or [l, c]. */
  public long[] sampleShape() {
    if (diffusion == null) {
      throw new IllegalStateException("a config without a \"diffusion\" section has no sample shape");
    }
    return diffusion.sampleShape(network.channels());
  }

  /**
   * Shape of one example of a fixed size, channels-last: the diffusion's sample shape, or a bare
   * network's own size (Karras networks). A bare Unet has none: it takes any size.
   */
  public long[] exampleShape() {
    if (diffusion != null) {
      return sampleShape();
    }
    if (network.fixedSpatialShape() != null) {
      return withChannels(network.fixedSpatialShape());
    }
    throw new IllegalArgumentException("a bare " + network.type() + " takes any size its downsampling divides: give"
        + " its config.json a \"diffusion\" section (it sets image_size or seq_length) to fix one");
  }

  /**
   * Shape of one input of the network, channels-last, with -1 for each spatial dimension of a
   * fully convolutional network (whose size is checked when it runs): what {@code denoise} takes.
   */
  public long[] inputShape() {
    long[] fixed = network.fixedSpatialShape();
    if (fixed != null) {
      return withChannels(fixed);
    }
    long[] any = new long[network.spatialRank()];
    Arrays.fill(any, -1);
    return withChannels(any);
  }

  private long[] withChannels(long[] spatial) {
    long[] shape = Arrays.copyOf(spatial, spatial.length + 1);
    shape[spatial.length] = network.channels();
    return shape;
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.add("model", network.toJson());
    if (diffusion != null) {
      JsonObject d = diffusion.toJson();
      if (diffusion.sampler() == null) {
        d.remove("sampler"); // diffusion4j's own key: a config without it stays as the reference writes it
      }
      j.add("diffusion", d);
    }
    if (wrapper != null) {
      j.add("wrapper", wrapper.toJson());
    }
    return j;
  }

  public String toJsonString() {
    return new GsonBuilder().setPrettyPrinting().create().toJson(toJson()) + "\n";
  }
}
