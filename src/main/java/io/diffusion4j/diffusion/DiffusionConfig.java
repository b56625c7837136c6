package io.diffusion4j.diffusion;

import com.google.gson.JsonObject;
import io.diffusion4j.models.Network;

/** The options of one diffusion type: its config.json section, and the diffusion it builds. */
public interface DiffusionConfig {

  /** The config.json type name, as the reference's class name. */
  String type();

  int spatialRank();

  /** Spatial size of one example: [h, w], [l] or [frames, h, w]. */
  int[] size();

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

  JsonObject toJson();

  /** The diffusion over {@code network}; fails with a clear message when they do not fit. */
  Diffusion create(Network network);
}
