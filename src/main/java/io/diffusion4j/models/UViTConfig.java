package io.diffusion4j.models;

import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.Collections;
import java.util.List;

/**
 * The options of the reference's {@code simple_diffusion.UViT} (Hoogeboom et al. 2023, simple
 * diffusion), with its names and defaults (the builder's fields): a U-Net whose innermost level is
 * a transformer, conditioned on a continuous noise level (log-SNR). {@code downsampleFactor} is
 * stored expanded to one factor per level, as the reference's cast_tuple does. With
 * {@code patch_size} > 1 the image is first cut into patches, by a strided conv or, with
 * {@code dual_patchnorm}, by LayerNorm-Linear-LayerNorm (dual_patchnorm has no effect without
 * patching, as in the reference).
 *
 * <p>The reference's init_img_transform and final_img_itransform are Python callables, not
 * options.
 */
public record UViTConfig(
    int dim,
    int initDim,
    int outDim,
    List<Integer> dimMults,
    List<Integer> downsampleFactor,
    int channels,
    int vitDepth,
    double vitDropout,
    int attnDimHead,
    int attnHeads,
    int ffMult,
    int learnedSinusoidalDim,
    int patchSize,
    boolean dualPatchnorm) implements NetworkConfig {

  public static final String TYPE = "simple_diffusion.UViT";

  public UViTConfig {
    Check.atLeast("dim", dim, 1);
    Check.atLeast("init_dim", initDim, 1);
    if (dimMults.isEmpty()) {
      throw new IllegalArgumentException("dim_mults must list at least one level");
    }
    dimMults.forEach(m -> Check.atLeast("dim_mults", m, 1));
    dimMults = List.copyOf(dimMults);
    downsampleFactor = perLevel(downsampleFactor, dimMults.size());
    downsampleFactor.forEach(f -> Check.atLeast("downsample_factor", f, 1));
    Check.atLeast("channels", channels, 1);
    Check.atLeast("vit_depth", vitDepth, 0);
    Check.within("vit_dropout", vitDropout, 0, 1, true);
    Check.atLeast("attn_dim_head", attnDimHead, 1);
    Check.atLeast("attn_heads", attnHeads, 1);
    Check.atLeast("ff_mult", ffMult, 1);
    Check.atLeast("learned_sinusoidal_dim", learnedSinusoidalDim, 2);
    Check.even("learned_sinusoidal_dim", learnedSinusoidalDim);
    Check.atLeast("patch_size", patchSize, 1);
    Check.atLeast("out_dim", outDim, 1);
    int patchChannels = channels * patchSize * patchSize;
    if (patchSize > 1 && outDim != patchChannels) {
      throw new IllegalArgumentException("out_dim = " + outDim + " must be channels * patch_size^2 = " + patchChannels
          + " with patch_size " + patchSize + ": the unpatchifying transposed conv takes that many channels");
    }
  }

  public static Builder builder(int dim) {
    return new Builder().dim(dim);
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public int spatialRank() {
    return 2;
  }

  @Override
  public Network create(Parameters parameters) {
    return new UViT(parameters, this);
  }

  public int levels() {
    return dimMults.size();
  }

  /** Spatial sizes must be divisible by this: the patch size times every level's downsample factor. */
  public int sizeDivisor() {
    return downsampleFactor.stream().reduce(patchSize, (a, b) -> a * b);
  }

  public static UViTConfig fromJson(JsonOptions o) {
    if (!o.has("dim")) {
      throw new IllegalArgumentException("model.dim is required for " + TYPE + " (the base channel count)");
    }
    Builder b = ConfigRecords.read(o, new Builder());
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("model: " + e.getMessage(), e);
    }
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", TYPE);
    ConfigRecords.write(this, Builder.class).entrySet().forEach(e -> j.add(e.getKey(), e.getValue()));
    return j;
  }

  /** One factor per level: a single one applies to all (cast_tuple). */
  private static List<Integer> perLevel(List<Integer> v, int levels) {
    if (v.size() == 1) {
      return Collections.nCopies(levels, v.get(0));
    }
    if (v.size() != levels) {
      throw new IllegalArgumentException("downsample_factor = " + v + " must have one value per level (" + levels
          + ", as dim_mults) or be a single value");
    }
    return List.copyOf(v);
  }

  /** The options with the reference's defaults; every setter takes the option of the same (camelCase) name. */
  public static final class Builder {
    private int dim;
    /** null: dim. */
    private Integer initDim;
    /** null: channels * patch_size^2. */
    private Integer outDim;
    private List<Integer> dimMults = List.of(1, 2, 4, 8);
    private List<Integer> downsampleFactor = List.of(2);
    private int channels = 3;
    private int vitDepth = 6;
    private double vitDropout = 0.2;
    private int attnDimHead = 32;
    private int attnHeads = 4;
    private int ffMult = 4;
    private int learnedSinusoidalDim = 16;
    private int patchSize = 1;
    private boolean dualPatchnorm;

    private Builder() {}

    public Builder dim(int v) { dim = v; return this; }
    public Builder initDim(int v) { initDim = v; return this; }
    public Builder outDim(int v) { outDim = v; return this; }
    public Builder dimMults(int... v) { dimMults = UnetConfig.boxed(v); return this; }
    public Builder downsampleFactor(int... v) { downsampleFactor = UnetConfig.boxed(v); return this; }
    public Builder channels(int v) { channels = v; return this; }
    public Builder vitDepth(int v) { vitDepth = v; return this; }
    public Builder vitDropout(double v) { vitDropout = v; return this; }
    public Builder attnDimHead(int v) { attnDimHead = v; return this; }
    public Builder attnHeads(int v) { attnHeads = v; return this; }
    public Builder ffMult(int v) { ffMult = v; return this; }
    public Builder learnedSinusoidalDim(int v) { learnedSinusoidalDim = v; return this; }
    public Builder patchSize(int v) { patchSize = v; return this; }
    public Builder dualPatchnorm(boolean v) { dualPatchnorm = v; return this; }

    public UViTConfig build() {
      return new UViTConfig(dim, initDim == null ? dim : initDim,
          outDim == null ? channels * patchSize * patchSize : outDim, dimMults, downsampleFactor, channels, vitDepth,
          vitDropout, attnDimHead, attnHeads, ffMult, learnedSinusoidalDim, patchSize, dualPatchnorm);
    }
  }
}
