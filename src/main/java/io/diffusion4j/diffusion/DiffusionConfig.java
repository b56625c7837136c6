package io.diffusion4j.diffusion;

import com.google.gson.JsonObject;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.models.Network;
import java.util.List;

/** The options of one diffusion type: its config.json section, and the diffusion it builds. */
public interface DiffusionConfig {

  /** The config.json type name, as the reference's class name. */
  String type();

  /** Spatial size of one example: [h, w], [l] or [frames, h, w]; not an option of its own. */
  @Internal
  List<Integer> shape();

  default int spatialRank() {
    return shape().size();
  }

  /** {@link #shape} as an array. */
  default int[] size() {
    return shape().stream().mapToInt(Integer::intValue).toArray();
  }

  /** Shape of one example with {@code channels} channels, channels-last. */
  default long[] sampleShape(int channels) {
    int[] size = size();
    long[] s = new long[size.length + 1];
    for (int i = 0; i < size.length; i++) {
      s[i] = size[i];
    }
    s[size.length] = channels;
    return s;
  }

  /** The config.json section: its type, size and options (those of its kind: {@link #notTaken}). */
  default JsonObject toJson() {
    JsonObject head = ConfigRecords.typed(type());
    writeSize(head, shape());
    JsonObject j = ConfigRecords.write(this, head);
    notTaken().forEach(j::remove);
    return j;
  }

  /** The options of other types that share this config (none unless it says). */
  default List<String> notTaken() {
    return List.of();
  }

  /** The catalogue's solver its config names to sample with by default, or null for the type's own choice. */
  String sampler();

  /**
   * The spatial size a section gives: image_size (an int or [h, w]) for rank 2, seq_length for
   * rank 1, frames and image_size for rank 3.
   */
  static List<Integer> readSize(JsonOptions o, int spatialRank) {
    if (spatialRank == 1) {
      return List.of(required(o, "seq_length"));
    }
    if (!o.has("image_size")) {
      throw new IllegalArgumentException("diffusion.image_size is required (an int or [h, w])");
    }
    int[] hw = o.getInts("image_size", null);
    if (hw.length == 1) {
      hw = new int[] {hw[0], hw[0]};
    } else if (hw.length != 2) {
      throw o.bad("image_size", o.get("image_size"), "an integer or a list of two integers");
    }
    return spatialRank == 2 ? List.of(hw[0], hw[1]) : List.of(required(o, "frames"), hw[0], hw[1]);
  }

  private static int required(JsonOptions o, String key) {
    if (!o.has(key)) {
      throw new IllegalArgumentException("diffusion." + key + " is required");
    }
    return o.getInt(key, 0);
  }

  /** Writes {@code size} under the keys {@link #readSize} reads. */
  static void writeSize(JsonObject j, List<Integer> size) {
    switch (size.size()) {
      case 1 -> j.addProperty("seq_length", size.get(0));
      case 2 -> j.add("image_size", ConfigRecords.json(size));
      default -> {
        j.addProperty("frames", size.get(0));
        j.add("image_size", ConfigRecords.json(size.subList(1, 3)));
      }
    }
  }

  /** Fails unless every dimension of a size is positive. */
  static List<Integer> checkSize(List<Integer> size) {
    for (int s : size) {
      if (s <= 0) {
        throw new IllegalArgumentException("size " + size + " must be positive");
      }
    }
    return List.copyOf(size);
  }

  /** The diffusion over {@code network}; fails with a clear message when they do not fit. */
  Diffusion create(Network network);
}
