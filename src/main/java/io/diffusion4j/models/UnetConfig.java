package io.diffusion4j.models;

import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The options of the reference's {@code Unet} (2-D) and {@code Unet1D}, with its names and
 * defaults (the builder's fields). Per-stage options (attn_heads, attn_dim_head, full_attn) are
 * stored expanded to one value per stage, as the reference's cast_tuple does; Unet1D takes one
 * head count and size for all its stages.
 *
 * <p>{@code resnet_block_groups} is accepted for configs written by reference versions before 2.0
 * (GroupNorm); from 2.0 the blocks normalise with RMSNorm, which has no groups, so it has no effect.
 */
public record UnetConfig(
    @Internal int spatialRank,
    int dim,
    int initDim,
    int outDim,
    List<Integer> dimMults,
    int channels,
    boolean selfCondition,
    boolean learnedVariance,
    boolean learnedSinusoidalCond,
    boolean randomFourierFeatures,
    int learnedSinusoidalDim,
    double sinusoidalPosEmbTheta,
    double dropout,
    List<Integer> attnDimHead,
    List<Integer> attnHeads,
    List<Boolean> fullAttn,
    boolean flashAttn) implements NetworkConfig {

  /** Options of the 2-D Unet only. */
  private static final String[] TWO_D = {"full_attn", "flash_attn"};

  public UnetConfig {
    positive("dim", dim);
    if (dimMults.isEmpty()) {
      throw new IllegalArgumentException("dim_mults must list at least one stage");
    }
    dimMults.forEach(m -> positive("dim_mults", m));
    positive("channels", channels);
    positive("init_dim", initDim);
    positive("out_dim", outDim);
    positive("learned_sinusoidal_dim", learnedSinusoidalDim);
    if (learnedSinusoidalCond || randomFourierFeatures) {
      Check.even("learned_sinusoidal_dim", learnedSinusoidalDim);
    }
    if (!(learnedSinusoidalCond || randomFourierFeatures) && dim < 4) {
      throw new IllegalArgumentException("dim = " + dim + " is too small for the sinusoidal time embedding (at least 4)");
    }
    if (!(sinusoidalPosEmbTheta > 1)) {
      throw new IllegalArgumentException("sinusoidal_pos_emb_theta = " + sinusoidalPosEmbTheta + " must be > 1");
    }
    Check.within("dropout", dropout, 0, 1, true);
    int stages = dimMults.size();
    attnDimHead = perStage("attn_dim_head", attnDimHead, stages, spatialRank);
    attnHeads = perStage("attn_heads", attnHeads, stages, spatialRank);
    attnDimHead.forEach(v -> positive("attn_dim_head", v));
    attnHeads.forEach(v -> positive("attn_heads", v));
    // the reference's `if not full_attn` (None or a bare False): full attention innermost only
    fullAttn = fullAttn == null || fullAttn.equals(List.of(false))
        ? innermost(stages) : perStage("full_attn", fullAttn, stages, 2);
    dimMults = List.copyOf(dimMults);
  }

  public static Builder builder(int dim) {
    return new Builder(2).dim(dim);
  }

  public static Builder builder1d(int dim) {
    return new Builder(1).dim(dim);
  }

  @Override
  public String type() {
    return spatialRank == 1 ? "Unet1D" : "Unet";
  }

  @Override
  public Network create(Parameters parameters) {
    return Unet.create(parameters, this);
  }

  public int stages() {
    return dimMults.size();
  }

  /** Spatial sizes must be divisible by this: each stage but the last halves them. */
  public int downsampleFactor() {
    return 1 << (stages() - 1);
  }

  /** True when the time input is a continuous noise level embedded by random Fourier features. */
  public boolean randomOrLearnedSinusoidalCond() {
    return learnedSinusoidalCond || randomFourierFeatures;
  }

  public static UnetConfig fromJson(JsonOptions o, int spatialRank) {
    if (!o.has("dim")) {
      throw new IllegalArgumentException("model.dim is required (the base channel count)");
    }
    Builder b = spatialRank == 1 ? ConfigRecords.read(o, new Builder(1), TWO_D) : ConfigRecords.read(o, new Builder(2));
    if (spatialRank == 2) {
      o.getIntOrNull("resnet_block_groups");
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("model: " + e.getMessage(), e);
    }
  }

  /** The options as config.json holds them; Unet1D's head count and size are single integers. */
  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", type());
    ConfigRecords.write(this, Builder.class).entrySet().forEach(e -> j.add(e.getKey(), e.getValue()));
    if (spatialRank == 1) {
      for (String key : TWO_D) {
        j.remove(key);
      }
      j.addProperty("attn_dim_head", attnDimHead.get(0));
      j.addProperty("attn_heads", attnHeads.get(0));
    }
    return j;
  }

  private static <T> List<T> perStage(String name, List<T> v, int stages, int spatialRank) {
    if (spatialRank == 1) {
      if (v.size() != 1) {
        throw new IllegalArgumentException(name + " = " + v + ": Unet1D takes a single integer");
      }
      return List.copyOf(v);
    }
    if (v.size() == 1) {
      return Collections.nCopies(stages, v.get(0));
    }
    if (v.size() != stages) {
      throw new IllegalArgumentException(name + " = " + v + " must have one value per stage (" + stages
          + ", as dim_mults) or be a single value");
    }
    return List.copyOf(v);
  }

  private static List<Boolean> innermost(int stages) {
    List<Boolean> full = new ArrayList<>(Collections.nCopies(stages, false));
    full.set(stages - 1, true);
    return List.copyOf(full);
  }

  private static void positive(String name, int v) {
    Check.atLeast(name, v, 1);
  }

  /** The options with the reference's defaults; every setter takes the option of the same (camelCase) name. */
  public static final class Builder {
    private final transient int spatialRank;
    private int dim;
    /** null: dim. */
    private Integer initDim;
    /** null: channels, twice that with learned_variance. */
    private Integer outDim;
    private List<Integer> dimMults = List.of(1, 2, 4, 8);
    private int channels = 3;
    private boolean selfCondition;
    private boolean learnedVariance;
    private boolean learnedSinusoidalCond;
    private boolean randomFourierFeatures;
    private int learnedSinusoidalDim = 16;
    private double sinusoidalPosEmbTheta = 10000;
    private double dropout;
    private List<Integer> attnDimHead = List.of(32);
    private List<Integer> attnHeads = List.of(4);
    /** null: full attention at the innermost stage only. */
    private List<Boolean> fullAttn;
    private boolean flashAttn;

    private Builder(int spatialRank) {
      this.spatialRank = spatialRank;
    }

    public Builder dim(int v) { dim = v; return this; }
    public Builder initDim(int v) { initDim = v; return this; }
    public Builder outDim(int v) { outDim = v; return this; }
    public Builder dimMults(int... v) { dimMults = boxed(v); return this; }
    public Builder channels(int v) { channels = v; return this; }
    public Builder selfCondition(boolean v) { selfCondition = v; return this; }
    public Builder learnedVariance(boolean v) { learnedVariance = v; return this; }
    public Builder learnedSinusoidalCond(boolean v) { learnedSinusoidalCond = v; return this; }
    public Builder randomFourierFeatures(boolean v) { randomFourierFeatures = v; return this; }
    public Builder learnedSinusoidalDim(int v) { learnedSinusoidalDim = v; return this; }
    public Builder sinusoidalPosEmbTheta(double v) { sinusoidalPosEmbTheta = v; return this; }
    public Builder dropout(double v) { dropout = v; return this; }
    public Builder attnDimHead(int... v) { attnDimHead = boxed(v); return this; }
    public Builder attnHeads(int... v) { attnHeads = boxed(v); return this; }
    public Builder fullAttn(boolean... v) { fullAttn = boxed(v); return this; }
    public Builder flashAttn(boolean v) { flashAttn = v; return this; }

    public UnetConfig build() {
      return new UnetConfig(spatialRank, dim, initDim == null ? dim : initDim,
          outDim == null ? channels * (learnedVariance ? 2 : 1) : outDim, dimMults, channels, selfCondition,
          learnedVariance, learnedSinusoidalCond, randomFourierFeatures, learnedSinusoidalDim, sinusoidalPosEmbTheta,
          dropout, attnDimHead, attnHeads, fullAttn, flashAttn);
    }
  }

  static List<Integer> boxed(int... v) {
    List<Integer> out = new ArrayList<>();
    for (int x : v) {
      out.add(x);
    }
    return List.copyOf(out);
  }

  static List<Boolean> boxed(boolean... v) {
    List<Boolean> out = new ArrayList<>();
    for (boolean x : v) {
      out.add(x);
    }
    return List.copyOf(out);
  }
}
