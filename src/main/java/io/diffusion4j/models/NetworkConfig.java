package io.diffusion4j.models;

import com.google.gson.JsonObject;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import org.tensorflow.op.Ops;

/** The options of one network type: they name it in config.json and build it in a graph. */
public interface NetworkConfig {

  /** The config.json type name, as the reference's class name. */
  String type();

  /** 1, 2 or 3; images (2) unless the type says otherwise. */
  default int spatialRank() {
    return 2;
  }

  /** Channels of the data the network denoises. */
  int channels();

  /** Channels of the network's output. */
  int outputChannels();

  /** Whether the network also takes its previous estimate of x0 (self-conditioning). */
  default boolean selfCondition() {
    return false;
  }

  /** Number of classes of a class-conditional network, 0 for an unconditional one. */
  default int numClasses() {
    return 0;
  }

  /** Whether class label -1 selects an unconditional evaluation (a learned null class). */
  default boolean nullClass() {
    return false;
  }

  /** What the network's time input embeds. */
  Network.TimeInput timeInput();

  /**
   * The spatial size the network is built for, or null for a fully convolutional network that
   * takes any size its downsampling divides.
   */
  default long[] fixedSpatialShape() {
    return null;
  }

  /** The config.json section: its type, then its options. */
  default JsonObject toJson() {
    return ConfigRecords.write(this, ConfigRecords.typed(type()));
  }

  /** Creates the network's variables in {@code tf}'s graph. */
  default Network create(Ops tf) {
    return create(new Parameters(tf));
  }

  /** Builds the network on {@code parameters}: variables, or operands bound by name. */
  Network create(Parameters parameters);

  /** Reads the "model" section of config.json. */
  static NetworkConfig fromJson(JsonObject json) {
    JsonOptions o = new JsonOptions("model", json);
    String type = o.getString("type", null);
    if (type == null) {
      throw new IllegalArgumentException(
          "model.type is required: Unet, Unet1D, KarrasUnet, KarrasUnet1D, KarrasUnet3D, " + GuidedUnetConfig.TYPE
              + " or " + UViTConfig.TYPE);
    }
    NetworkConfig c = switch (type) {
      case "Unet" -> UnetConfig.fromJson(o, 2);
      case "Unet1D" -> UnetConfig.fromJson(o, 1);
      case "KarrasUnet" -> KarrasUnetConfig.fromJson(o, 2);
      case "KarrasUnet1D" -> KarrasUnetConfig.fromJson(o, 1);
      case "KarrasUnet3D" -> KarrasUnetConfig.fromJson(o, 3);
      case GuidedUnetConfig.TYPE -> GuidedUnetConfig.fromJson(o);
      case UViTConfig.TYPE -> UViTConfig.fromJson(o);
      default -> throw o.bad("type", "\"" + type + "\"", "Unet, Unet1D, KarrasUnet, KarrasUnet1D, KarrasUnet3D, "
          + GuidedUnetConfig.TYPE + " or " + UViTConfig.TYPE);
    };
    o.finish();
    return c;
  }
}
