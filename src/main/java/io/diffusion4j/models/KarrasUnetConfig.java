package io.diffusion4j.models;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * The options of the reference's magnitude-preserving U-Nets {@code KarrasUnet} (2-D),
 * {@code KarrasUnet1D} and {@code KarrasUnet3D}, with its names and defaults (the builder's
 * fields).
 *
 * <p>Per-stage options are stored expanded, as the reference's cast_tuple does:
 * {@code numBlocksPerStage} has one entry for the full-resolution stage and one per downsample
 * (num_downsamples + 1; 1-D and 2-D take a single integer), {@code downsampleTypes} one entry per
 * downsample ("all", "image" or "frame"; always "all" in 1-D and 2-D).
 *
 * @param size image_size (KarrasUnet, KarrasUnet3D) or seq_len (KarrasUnet1D)
 * @param frames frames of a KarrasUnet3D; 0 for the others
 * @param numClasses classes of a class-conditional network; 0 for num_classes=None
 */
public record KarrasUnetConfig(
    @Internal int spatialRank,
    @Internal int size,
    int frames,
    int dim,
    int dimMax,
    int numClasses,
    int channels,
    int numDownsamples,
    List<Integer> numBlocksPerStage,
    List<String> downsampleTypes,
    List<Integer> attnRes,
    int fourierDim,
    int attnDimHead,
    boolean attnFlash,
    double mpCatT,
    double mpAddEmbT,
    double attnResMpAddT,
    double resnetMpAddT,
    double dropout,
    boolean selfCondition,
    boolean factorizeSpaceTimeAttn) implements NetworkConfig {

  private static final Set<String> DOWNSAMPLE_TYPES = Set.of("all", "image", "frame");
  /** Options of KarrasUnet3D only. */
  private static final String[] THREE_D = {"frames", "downsample_types", "factorize_space_time_attn"};

  public KarrasUnetConfig {
    String sizeKey = spatialRank == 1 ? "seq_len" : "image_size";
    positive(sizeKey, size);
    if (spatialRank == 3) {
      positive("frames", frames);
    }
    positive("dim", dim);
    positive("dim_max", dimMax);
    Check.atLeast("num_classes", numClasses, 0);
    positive("channels", channels);
    Check.atLeast("num_downsamples", numDownsamples, 0);
    positive("fourier_dim", fourierDim);
    Check.even("fourier_dim", fourierDim);
    positive("attn_dim_head", attnDimHead);
    attnRes.forEach(r -> positive("attn_res", r));
    Check.within("mp_cat_t", mpCatT, 0, 1, false);
    Check.within("mp_add_emb_t", mpAddEmbT, 0, 1, false);
    Check.within("attn_res_mp_add_t", attnResMpAddT, 0, 1, false);
    Check.within("resnet_mp_add_t", resnetMpAddT, 0, 1, false);
    Check.within("dropout", dropout, 0, 1, true);
    if (spatialRank != 3 && (downsampleTypes != null || factorizeSpaceTimeAttn)) {
      throw new IllegalArgumentException("downsample_types and factorize_space_time_attn are KarrasUnet3D options");
    }
    numBlocksPerStage = blocksPerStage(numBlocksPerStage, numDownsamples, spatialRank);
    downsampleTypes = downsampleTypes(downsampleTypes, numDownsamples);
    attnRes = List.copyOf(attnRes);
    // every downsample must halve evenly, or the skips stop matching the decoder
    long image = size;
    long time = frames;
    for (int i = 0; i < numDownsamples; i++) {
      if (!downsampleTypes.get(i).equals("frame")) {
        image = halve(sizeKey, size, image, i, numDownsamples, spatialRank == 3 ? downsampleTypes : null);
      }
      if (spatialRank == 3 && !downsampleTypes.get(i).equals("image")) {
        time = halve("frames", frames, time, i, numDownsamples, downsampleTypes);
      }
    }
  }

  /** KarrasUnet (images). */
  public static Builder builder(int imageSize) {
    Builder b = new Builder(2);
    b.imageSize = imageSize;
    return b;
  }

  /** KarrasUnet1D (sequences). */
  public static Builder builder1d(int seqLen) {
    Builder b = new Builder(1);
    b.seqLen = seqLen;
    return b;
  }

  /** KarrasUnet3D (videos: frames of images). */
  public static Builder builder3d(int frames, int imageSize) {
    Builder b = new Builder(3);
    b.imageSize = imageSize;
    b.frames = frames;
    return b;
  }

  @Override
  public String type() {
    return switch (spatialRank) {
      case 1 -> "KarrasUnet1D";
      case 3 -> "KarrasUnet3D";
      default -> "KarrasUnet";
    };
  }

  @Override
  public Network create(Parameters parameters) {
    return KarrasUnet.create(parameters, this);
  }

  /** The spatial shape of the data: [seq_len], [image_size, image_size] or [frames, image_size, image_size]. */
  @Override
  public long[] fixedSpatialShape() {
    return spatialShape();
  }

  public long[] spatialShape() {
    return switch (spatialRank) {
      case 1 -> new long[] {size};
      case 3 -> new long[] {frames, size, size};
      default -> new long[] {size, size};
    };
  }

  public boolean hasAttnAt(int resolution) {
    return attnRes.contains(resolution);
  }

  public static KarrasUnetConfig fromJson(JsonOptions o, int spatialRank) {
    String sizeKey = spatialRank == 1 ? "seq_len" : "image_size";
    if (!o.has(sizeKey)) {
      throw new IllegalArgumentException("model." + sizeKey + " is required for "
          + (spatialRank == 1 ? "KarrasUnet1D" : spatialRank == 3 ? "KarrasUnet3D" : "KarrasUnet"));
    }
    if (spatialRank == 3 && !o.has("frames")) {
      throw new IllegalArgumentException("model.frames is required for KarrasUnet3D");
    }
    List<String> skip = new ArrayList<>(List.of(spatialRank == 1 ? "image_size" : "seq_len"));
    if (spatialRank != 3) {
      skip.addAll(List.of(THREE_D));
    }
    Builder b = ConfigRecords.read(o, new Builder(spatialRank), skip.toArray(String[]::new));
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("model: " + e.getMessage(), e);
    }
  }

  /** The options as config.json holds them: no class count is null, and only KarrasUnet3D has a list of block counts. */
  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", type());
    j.addProperty(spatialRank == 1 ? "seq_len" : "image_size", size);
    ConfigRecords.write(this, Builder.class).entrySet().forEach(e -> j.add(e.getKey(), e.getValue()));
    if (numClasses == 0) {
      j.add("num_classes", JsonNull.INSTANCE);
    }
    if (spatialRank != 3) {
      for (String key : THREE_D) {
        j.remove(key);
      }
      j.addProperty("num_blocks_per_stage", numBlocksPerStage.get(0));
    }
    return j;
  }

  /** cast_tuple, then the first count repeated for the full-resolution stage when one per downsample is given. */
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
    if (spatialRank != 3) {
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

  /** The options with the reference's defaults; every setter takes the option of the same (camelCase) name. */
  public static final class Builder {
    private final transient int spatialRank;
    /** KarrasUnet and KarrasUnet3D. */
    private int imageSize;
    /** KarrasUnet1D. */
    private int seqLen;
    /** KarrasUnet3D. */
    private int frames;
    private int dim = 192;
    private int dimMax = 768;
    /** null: not class-conditional. */
    private Integer numClasses;
    private int channels = 4;
    private int numDownsamples = 3;
    private List<Integer> numBlocksPerStage = List.of(4);
    /** KarrasUnet3D; null: all. */
    private List<String> downsampleTypes;
    private List<Integer> attnRes = List.of(16, 8);
    private int fourierDim = 16;
    private int attnDimHead = 64;
    private boolean attnFlash;
    private double mpCatT = 0.5;
    private double mpAddEmbT = 0.5;
    private double attnResMpAddT = 0.3;
    private double resnetMpAddT = 0.3;
    private double dropout = 0.1;
    private boolean selfCondition;
    /** KarrasUnet3D. */
    private boolean factorizeSpaceTimeAttn;

    private Builder(int spatialRank) {
      this.spatialRank = spatialRank;
    }

    public Builder dim(int v) { dim = v; return this; }
    public Builder dimMax(int v) { dimMax = v; return this; }
    public Builder numClasses(int v) { numClasses = v; return this; }
    public Builder channels(int v) { channels = v; return this; }
    public Builder numDownsamples(int v) { numDownsamples = v; return this; }
    /** One count for every stage; KarrasUnet3D also takes one per downsample or one per stage. */
    public Builder numBlocksPerStage(int... v) { numBlocksPerStage = UnetConfig.boxed(v); return this; }
    /** KarrasUnet3D only: "all", "image" or "frame", once or per downsample. */
    public Builder downsampleTypes(String... v) { downsampleTypes = List.of(v); return this; }
    public Builder attnRes(int... v) { attnRes = UnetConfig.boxed(v); return this; }
    public Builder fourierDim(int v) { fourierDim = v; return this; }
    public Builder attnDimHead(int v) { attnDimHead = v; return this; }
    public Builder attnFlash(boolean v) { attnFlash = v; return this; }
    public Builder mpCatT(double v) { mpCatT = v; return this; }
    public Builder mpAddEmbT(double v) { mpAddEmbT = v; return this; }
    public Builder attnResMpAddT(double v) { attnResMpAddT = v; return this; }
    public Builder resnetMpAddT(double v) { resnetMpAddT = v; return this; }
    public Builder dropout(double v) { dropout = v; return this; }
    public Builder selfCondition(boolean v) { selfCondition = v; return this; }
    /** KarrasUnet3D only. */
    public Builder factorizeSpaceTimeAttn(boolean v) { factorizeSpaceTimeAttn = v; return this; }

    public KarrasUnetConfig build() {
      if (numClasses != null) {
        Check.atLeast("num_classes", numClasses, 1);
      }
      return new KarrasUnetConfig(spatialRank, spatialRank == 1 ? seqLen : imageSize, spatialRank == 3 ? frames : 0,
          dim, dimMax, numClasses == null ? 0 : numClasses, channels, numDownsamples, numBlocksPerStage,
          downsampleTypes, attnRes, fourierDim, attnDimHead, attnFlash, mpCatT, mpAddEmbT, attnResMpAddT,
          resnetMpAddT, dropout, selfCondition, factorizeSpaceTimeAttn);
    }
  }
}
