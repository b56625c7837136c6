package io.diffusion4j.models;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Config;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.ConfigRecords.Nullable;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.immutables.value.Value;

/**
 * The options of the reference's magnitude-preserving U-Nets {@code KarrasUnet} (2-D),
 * {@code KarrasUnet1D} and {@code KarrasUnet3D}, with its names and defaults (each option one method below).
 *
 * <p>Per-stage options are stored expanded, as the reference's cast_tuple does:
 * {@code numBlocksPerStage} has one entry for the full-resolution stage and one per downsample
 * (num_downsamples + 1; 1-D and 2-D take a single integer), {@code downsampleTypes} one entry per
 * downsample ("all", "image" or "frame"; always "all" in 1-D and 2-D).
 *
 * <p>The size option is image_size (KarrasUnet, KarrasUnet3D) or seq_len (KarrasUnet1D);
 * frames, downsample_types and factorize_space_time_attn are KarrasUnet3D's; num_classes 0 (None
 * in config.json) is not class-conditional.
 */
@Value.Immutable
@Config
public interface KarrasUnetConfig extends NetworkConfig {
  @Internal
  @Override
  int spatialRank();
  @Value.Default default int imageSize() { return 0; }
  @Value.Default default int seqLen() { return 0; }
  @Value.Default default int frames() { return 0; }
  @Value.Default default int dim() { return 192; }
  @Value.Default default int dimMax() { return 768; }
  @Override
  @Value.Default default int numClasses() { return 0; }
  @Override
  @Value.Default default int channels() { return 4; }
  @Value.Default default int numDownsamples() { return 3; }
  /** One count for every stage; KarrasUnet3D also takes one per downsample or one per stage. */
  @Value.Default default List<Integer> numBlocksPerStage() { return List.of(4); }
  /** KarrasUnet3D: "all", "image" or "frame", once or per downsample; null: all. */
  @Nullable List<String> downsampleTypes();
  @Value.Default default List<Integer> attnRes() { return List.of(16, 8); }
  @Value.Default default int fourierDim() { return 16; }
  @Value.Default default int attnDimHead() { return 64; }
  @Value.Default default boolean attnFlash() { return false; }
  @Value.Default default double mpCatT() { return 0.5; }
  @Value.Default default double mpAddEmbT() { return 0.5; }
  @Value.Default default double attnResMpAddT() { return 0.3; }
  @Value.Default default double resnetMpAddT() { return 0.3; }
  @Value.Default default double dropout() { return 0.1; }
  @Value.Default default boolean selfCondition() { return false; }
  @Value.Default default boolean factorizeSpaceTimeAttn() { return false; }

  Set<String> DOWNSAMPLE_TYPES = Set.of("all", "image", "frame");

  /** Checks the options, and expands the per-stage ones (cast_tuple). */
  /** The builder, starting from the defaults above. */
  class Builder extends ImmutableKarrasUnetConfig.Builder {}

  @Value.Check
  default KarrasUnetConfig checked() {
    int rank = spatialRank();
    positive(sizeKey(rank), size());
    if (rank == 3) {
      positive("frames", frames());
    }
    positive("dim", dim());
    positive("dim_max", dimMax());
    Check.atLeast("num_classes", numClasses(), 0);
    positive("channels", channels());
    Check.atLeast("num_downsamples", numDownsamples(), 0);
    positive("fourier_dim", fourierDim());
    Check.even("fourier_dim", fourierDim());
    positive("attn_dim_head", attnDimHead());
    attnRes().forEach(r -> positive("attn_res", r));
    Check.within("mp_cat_t", mpCatT(), 0, 1, false);
    Check.within("mp_add_emb_t", mpAddEmbT(), 0, 1, false);
    Check.within("attn_res_mp_add_t", attnResMpAddT(), 0, 1, false);
    Check.within("resnet_mp_add_t", resnetMpAddT(), 0, 1, false);
    Check.within("dropout", dropout(), 0, 1, true);
    int downsamples = numDownsamples();
    List<String> given = downsampleTypes();
    if (rank != 3 && (given != null && !given.stream().allMatch("all"::equals) || factorizeSpaceTimeAttn())) {
      throw new IllegalArgumentException("downsample_types and factorize_space_time_attn are KarrasUnet3D options");
    }
    List<Integer> blocks = blocksPerStage(numBlocksPerStage(), downsamples, rank);
    List<String> types = downsampleTypes(given, downsamples);
    // every downsample must halve evenly, or the skips stop matching the decoder
    long image = size();
    long time = frames();
    for (int i = 0; i < downsamples; i++) {
      if (!types.get(i).equals("frame")) {
        image = halve(sizeKey(rank), size(), image, i, downsamples, rank == 3 ? types : null);
      }
      if (rank == 3 && !types.get(i).equals("image")) {
        time = halve("frames", frames(), time, i, downsamples, types);
      }
    }
    return blocks.equals(numBlocksPerStage()) && types.equals(given) ? this
        : new Builder().from(this).numBlocksPerStage(blocks).downsampleTypes(types).build();
  }

  /** KarrasUnet (images). */
  static Builder builder(int imageSize) {
    return new Builder().spatialRank(2).imageSize(imageSize);
  }

  /** KarrasUnet1D (sequences). */
  static Builder builder1d(int seqLen) {
    return new Builder().spatialRank(1).seqLen(seqLen);
  }

  /** KarrasUnet3D (videos: frames of images). */
  static Builder builder3d(int frames, int imageSize) {
    return new Builder().spatialRank(3).frames(frames).imageSize(imageSize);
  }

  /** image_size, or seq_len for KarrasUnet1D. */
  default int size() {
    return spatialRank() == 1 ? seqLen() : imageSize();
  }

  @Override
  default String type() {
    return typeOf(spatialRank());
  }

  private static String typeOf(int spatialRank) {
    return switch (spatialRank) {
      case 1 -> "KarrasUnet1D";
      case 3 -> "KarrasUnet3D";
      default -> "KarrasUnet";
    };
  }

  @Override
  default Network create(Parameters parameters) {
    return KarrasUnet.create(parameters, this);
  }

  /** The spatial shape of the data: [seq_len], [image_size, image_size] or [frames, image_size, image_size]. */
  @Override
  default long[] fixedSpatialShape() {
    return spatialShape();
  }

  default long[] spatialShape() {
    return switch (spatialRank()) {
      case 1 -> new long[] {size()};
      case 3 -> new long[] {frames(), size(), size()};
      default -> new long[] {size(), size()};
    };
  }

  default boolean hasAttnAt(int resolution) {
    return attnRes().contains(resolution);
  }

  @Override
  default int outputChannels() {
    return channels();
  }

  @Override
  default Network.TimeInput timeInput() {
    return Network.TimeInput.ANY;
  }

  static KarrasUnetConfig fromJson(JsonOptions o, int spatialRank) {
    String sizeKey = sizeKey(spatialRank);
    if (!o.has(sizeKey)) {
      throw new IllegalArgumentException("model." + sizeKey + " is required for " + typeOf(spatialRank));
    }
    if (spatialRank == 3 && !o.has("frames")) {
      throw new IllegalArgumentException("model.frames is required for KarrasUnet3D");
    }
    return ConfigRecords.build(o, new Builder().spatialRank(spatialRank), notTaken(spatialRank));
  }

  /** The options as config.json holds them: no class count is null, and only KarrasUnet3D has a list of block counts. */
  @Override
  default JsonObject toJson() {
    JsonObject j = NetworkConfig.super.toJson();
    for (String key : notTaken(spatialRank())) {
      j.remove(key);
    }
    if (numClasses() == 0) {
      j.add("num_classes", JsonNull.INSTANCE);
    }
    if (spatialRank() != 3) {
      j.addProperty("num_blocks_per_stage", numBlocksPerStage().get(0));
    }
    return j;
  }

  private static String sizeKey(int spatialRank) {
    return spatialRank == 1 ? "seq_len" : "image_size";
  }

  /** The options of the other ranks: the other size key, and KarrasUnet3D's own. */
  private static String[] notTaken(int spatialRank) {
    List<String> out = new ArrayList<>(List.of(spatialRank == 1 ? "image_size" : "seq_len"));
    if (spatialRank != 3) {
      out.addAll(List.of("frames", "downsample_types", "factorize_space_time_attn"));
    }
    return out.toArray(String[]::new);
  }

  /**
   * cast_tuple, then the first count repeated for the full-resolution stage when one per
   * downsample is given; 1-D and 2-D take one count (or its expansion).
   */
  private static List<Integer> blocksPerStage(List<Integer> given, int numDownsamples, int spatialRank) {
    for (int n : given) {
      if (n < 1) {
        throw new IllegalArgumentException("num_blocks_per_stage = " + given + ": every count must be >= 1");
      }
    }
    int stages = numDownsamples + 1;
    if (given.size() == 1) {
      return Collections.nCopies(stages, given.get(0));
    }
    if (spatialRank != 3 && !(given.size() == stages && given.stream().distinct().count() == 1)) {
      throw new IllegalArgumentException("num_blocks_per_stage = " + given
          + ": KarrasUnet and KarrasUnet1D take a single integer");
    }
    if (given.size() == numDownsamples) {
      List<Integer> out = new ArrayList<>(List.of(given.get(0)));
      out.addAll(given);
      return List.copyOf(out);
    }
    if (given.size() != stages) {
      throw new IllegalArgumentException("num_blocks_per_stage = " + given + " must be one integer, or one per"
          + " downsample (" + numDownsamples + ") or per stage (" + stages + ")");
    }
    return List.copyOf(given);
  }

  private static List<String> downsampleTypes(List<String> given, int numDownsamples) {
    List<String> types = given == null ? List.of("all") : given;
    for (String t : types) {
      if (!DOWNSAMPLE_TYPES.contains(t)) {
        throw new IllegalArgumentException("downsample_types = " + types + ": \"" + t
            + "\" is not one of \"all\", \"image\", \"frame\"");
      }
    }
    if (types.size() == 1) {
      return Collections.nCopies(numDownsamples, types.get(0));
    }
    if (types.size() != numDownsamples) {
      throw new IllegalArgumentException("downsample_types = " + types + " must be one type or one per downsample ("
          + numDownsamples + ")");
    }
    return List.copyOf(types);
  }

  private static long halve(String name, int value, long current, int downsample, int numDownsamples,
      List<String> types) {
    if (current % 2 != 0) {
      throw new IllegalArgumentException(name + " " + value + " cannot be halved at downsample " + (downsample + 1)
          + " of " + numDownsamples + " (it is " + current + " there"
          + (types != null ? "; downsample_types " + types : "") + ")");
    }
    return current / 2;
  }

  private static void positive(String name, int v) {
    Check.atLeast(name, v, 1);
  }
}
