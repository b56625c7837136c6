package io.diffusion4j.models;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.Arrays;
import java.util.Set;

/**
 * The options of the reference's magnitude-preserving U-Nets {@code KarrasUnet} (2-D),
 * {@code KarrasUnet1D} and {@code KarrasUnet3D}, with its names and defaults.
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
    int spatialRank,
    int size,
    int frames,
    int dim,
    int dimMax,
    int numClasses,
    int channels,
    int numDownsamples,
    int[] numBlocksPerStage,
    String[] downsampleTypes,
    int[] attnRes,
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

  /** KarrasUnet (images). */
  public static Builder builder(int imageSize) {
    return new Builder(2, imageSize, 0);
  }

  /** KarrasUnet1D (sequences). */
  public static Builder builder1d(int seqLen) {
    return new Builder(1, seqLen, 0);
  }

  /** KarrasUnet3D (videos: frames of images). */
  public static Builder builder3d(int frames, int imageSize) {
    return new Builder(3, imageSize, frames);
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
    return Arrays.stream(attnRes).anyMatch(r -> r == resolution);
  }

  public static KarrasUnetConfig fromJson(JsonOptions o, int spatialRank) {
    String sizeKey = spatialRank == 1 ? "seq_len" : "image_size";
    if (!o.has(sizeKey)) {
      throw new IllegalArgumentException("model." + sizeKey + " is required for "
          + (spatialRank == 1 ? "KarrasUnet1D" : spatialRank == 3 ? "KarrasUnet3D" : "KarrasUnet"));
    }
    int size = o.getInt(sizeKey, 0);
    Builder b;
    if (spatialRank == 3) {
      if (!o.has("frames")) {
        throw new IllegalArgumentException("model.frames is required for KarrasUnet3D");
      }
      b = new Builder(3, size, o.getInt("frames", 0));
    } else {
      b = new Builder(spatialRank, size, 0);
    }
    b.dim = o.getInt("dim", b.dim);
    b.dimMax = o.getInt("dim_max", b.dimMax);
    Integer classes = o.getIntOrNull("num_classes");
    b.numClasses = classes;
    b.channels = o.getInt("channels", b.channels);
    b.numDownsamples = o.getInt("num_downsamples", b.numDownsamples);
    if (spatialRank == 3) {
      b.numBlocksPerStage = o.getInts("num_blocks_per_stage", b.numBlocksPerStage);
      b.downsampleTypes = o.getStrings("downsample_types", null, "\"all\", \"image\", \"frame\" or a list of them");
      b.factorizeSpaceTimeAttn = o.getBool("factorize_space_time_attn", false);
    } else {
      JsonElement blocks = o.get("num_blocks_per_stage");
      if (blocks != null && !blocks.isJsonNull() && !blocks.isJsonPrimitive()) {
        throw o.bad("num_blocks_per_stage", blocks, "a single integer (per-stage counts are KarrasUnet3D's)");
      }
      b.numBlocksPerStage = new int[] {o.getInt("num_blocks_per_stage", b.numBlocksPerStage[0])};
    }
    b.attnRes = o.getInts("attn_res", b.attnRes);
    b.fourierDim = o.getInt("fourier_dim", b.fourierDim);
    b.attnDimHead = o.getInt("attn_dim_head", b.attnDimHead);
    b.attnFlash = o.getBool("attn_flash", false);
    b.mpCatT = o.getDouble("mp_cat_t", b.mpCatT);
    b.mpAddEmbT = o.getDouble("mp_add_emb_t", b.mpAddEmbT);
    b.attnResMpAddT = o.getDouble("attn_res_mp_add_t", b.attnResMpAddT);
    b.resnetMpAddT = o.getDouble("resnet_mp_add_t", b.resnetMpAddT);
    b.dropout = o.getDouble("dropout", b.dropout);
    b.selfCondition = o.getBool("self_condition", false);
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("model: " + e.getMessage(), e);
    }
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", type());
    if (spatialRank == 1) {
      j.addProperty("seq_len", size);
    } else {
      j.addProperty("image_size", size);
    }
    if (spatialRank == 3) {
      j.addProperty("frames", frames);
    }
    j.addProperty("dim", dim);
    j.addProperty("dim_max", dimMax);
    if (numClasses > 0) {
      j.addProperty("num_classes", numClasses);
    } else {
      j.add("num_classes", JsonNull.INSTANCE);
    }
    j.addProperty("channels", channels);
    j.addProperty("num_downsamples", numDownsamples);
    if (spatialRank == 3) {
      j.add("num_blocks_per_stage", JsonOptions.array(numBlocksPerStage));
      JsonArray types = new JsonArray();
      Arrays.stream(downsampleTypes).forEach(types::add);
      j.add("downsample_types", types);
    } else {
      j.addProperty("num_blocks_per_stage", numBlocksPerStage[0]);
    }
    j.add("attn_res", JsonOptions.array(attnRes));
    j.addProperty("fourier_dim", fourierDim);
    j.addProperty("attn_dim_head", attnDimHead);
    j.addProperty("attn_flash", attnFlash);
    j.addProperty("mp_cat_t", mpCatT);
    j.addProperty("mp_add_emb_t", mpAddEmbT);
    j.addProperty("attn_res_mp_add_t", attnResMpAddT);
    j.addProperty("resnet_mp_add_t", resnetMpAddT);
    j.addProperty("dropout", dropout);
    j.addProperty("self_condition", selfCondition);
    if (spatialRank == 3) {
      j.addProperty("factorize_space_time_attn", factorizeSpaceTimeAttn);
    }
    return j;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KarrasUnetConfig c && toJson().equals(c.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return toJson().toString();
  }

  /** Builds a config; every setter takes the reference's option of the same (camelCase) name. */
  public static final class Builder {
    private final int spatialRank;
    private final int size;
    private final int frames;
    private int dim = 192;
    private int dimMax = 768;
    private Integer numClasses;
    private int channels = 4;
    private int numDownsamples = 3;
    private int[] numBlocksPerStage = {4};
    private String[] downsampleTypes;
    private int[] attnRes = {16, 8};
    private int fourierDim = 16;
    private int attnDimHead = 64;
    private boolean attnFlash;
    private double mpCatT = 0.5;
    private double mpAddEmbT = 0.5;
    private double attnResMpAddT = 0.3;
    private double resnetMpAddT = 0.3;
    private double dropout = 0.1;
    private boolean selfCondition;
    private boolean factorizeSpaceTimeAttn;

    private Builder(int spatialRank, int size, int frames) {
      this.spatialRank = spatialRank;
      this.size = size;
      this.frames = frames;
    }

    public Builder dim(int v) { dim = v; return this; }
    public Builder dimMax(int v) { dimMax = v; return this; }
    public Builder numClasses(int v) { numClasses = v; return this; }
    public Builder channels(int v) { channels = v; return this; }
    public Builder numDownsamples(int v) { numDownsamples = v; return this; }
    /** One count for every stage; KarrasUnet3D also takes one per downsample or one per stage. */
    public Builder numBlocksPerStage(int... v) { numBlocksPerStage = v.clone(); return this; }
    /** KarrasUnet3D only: "all", "image" or "frame", once or per downsample. */
    public Builder downsampleTypes(String... v) { downsampleTypes = v.clone(); return this; }
    public Builder attnRes(int... v) { attnRes = v.clone(); return this; }
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
      positive(spatialRank == 1 ? "seq_len" : "image_size", size);
      if (spatialRank == 3) {
        positive("frames", frames);
      }
      positive("dim", dim);
      positive("dim_max", dimMax);
      if (numClasses != null) {
        positive("num_classes", numClasses);
      }
      positive("channels", channels);
      if (numDownsamples < 0) {
        throw new IllegalArgumentException("num_downsamples = " + numDownsamples + " must be >= 0");
      }
      positive("fourier_dim", fourierDim);
      if (fourierDim % 2 != 0) {
        throw new IllegalArgumentException("fourier_dim = " + fourierDim + " must be even");
      }
      positive("attn_dim_head", attnDimHead);
      for (int r : attnRes) {
        positive("attn_res", r);
      }
      unitInterval("mp_cat_t", mpCatT);
      unitInterval("mp_add_emb_t", mpAddEmbT);
      unitInterval("attn_res_mp_add_t", attnResMpAddT);
      unitInterval("resnet_mp_add_t", resnetMpAddT);
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("dropout = " + dropout + " must be in [0, 1)");
      }
      if (spatialRank != 3 && (downsampleTypes != null || factorizeSpaceTimeAttn)) {
        throw new IllegalArgumentException("downsample_types and factorize_space_time_attn are KarrasUnet3D options");
      }
      int[] blocks = blocksPerStage();
      String[] types = downsampleTypes();
      // every downsample must halve evenly, or the skips stop matching the decoder
      long image = size;
      long time = frames;
      for (int i = 0; i < numDownsamples; i++) {
        if (!types[i].equals("frame")) {
          image = halve(spatialRank == 1 ? "seq_len" : "image_size", size, image, i, types);
        }
        if (spatialRank == 3 && !types[i].equals("image")) {
          time = halve("frames", frames, time, i, types);
        }
      }
      return new KarrasUnetConfig(spatialRank, size, frames, dim, dimMax, numClasses == null ? 0 : numClasses,
          channels, numDownsamples, blocks, types, attnRes.clone(), fourierDim, attnDimHead, attnFlash, mpCatT,
          mpAddEmbT, attnResMpAddT, resnetMpAddT, dropout, selfCondition, factorizeSpaceTimeAttn);
    }

    /** cast_tuple, then the first count repeated for the full-resolution stage when one per downsample is given. */
    private int[] blocksPerStage() {
      for (int n : numBlocksPerStage) {
        if (n < 1) {
          throw new IllegalArgumentException("num_blocks_per_stage = " + Arrays.toString(numBlocksPerStage)
              + ": every count must be >= 1");
        }
      }
      int stages = numDownsamples + 1;
      int[] out = new int[stages];
      if (numBlocksPerStage.length == 1) {
        Arrays.fill(out, numBlocksPerStage[0]);
        return out;
      }
      if (spatialRank != 3) {
        throw new IllegalArgumentException("num_blocks_per_stage = " + Arrays.toString(numBlocksPerStage)
            + ": KarrasUnet and KarrasUnet1D take a single integer");
      }
      if (numBlocksPerStage.length == numDownsamples) {
        out[0] = numBlocksPerStage[0];
        System.arraycopy(numBlocksPerStage, 0, out, 1, numDownsamples);
        return out;
      }
      if (numBlocksPerStage.length != stages) {
        throw new IllegalArgumentException("num_blocks_per_stage = " + Arrays.toString(numBlocksPerStage)
            + " must be one integer, or one per downsample (" + numDownsamples + ") or per stage (" + stages + ")");
      }
      return numBlocksPerStage.clone();
    }

    private String[] downsampleTypes() {
      String[] out = new String[numDownsamples];
      String[] given = downsampleTypes == null ? new String[] {"all"} : downsampleTypes;
      for (String t : given) {
        if (!DOWNSAMPLE_TYPES.contains(t)) {
          throw new IllegalArgumentException("downsample_types = " + Arrays.toString(given) + ": \"" + t
              + "\" is not one of \"all\", \"image\", \"frame\"");
        }
      }
      if (given.length == 1) {
        Arrays.fill(out, given[0]);
        return out;
      }
      if (given.length != numDownsamples) {
        throw new IllegalArgumentException("downsample_types = " + Arrays.toString(given)
            + " must be one type or one per downsample (" + numDownsamples + ")");
      }
      return given.clone();
    }

    private long halve(String name, int value, long current, int downsample, String[] types) {
      if (current % 2 != 0) {
        throw new IllegalArgumentException(name + " " + value + " cannot be halved at downsample " + (downsample + 1)
            + " of " + numDownsamples + " (it is " + current + " there"
            + (spatialRank == 3 ? "; downsample_types " + Arrays.toString(types) : "") + ")");
      }
      return current / 2;
    }

    private static void positive(String name, int v) {
      if (v <= 0) {
        throw new IllegalArgumentException(name + " = " + v + " must be a positive integer");
      }
    }

    private static void unitInterval(String name, double v) {
      if (!(v >= 0 && v <= 1)) {
        throw new IllegalArgumentException(name + " = " + v + " must be in [0, 1]");
      }
    }
  }
}
