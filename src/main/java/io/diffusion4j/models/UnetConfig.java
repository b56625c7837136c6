package io.diffusion4j.models;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.Arrays;

/**
 * The options of the reference's {@code Unet} (2-D) and {@code Unet1D}, with its names and
 * defaults. Per-stage options (attn_heads, attn_dim_head, full_attn) are stored expanded to one
 * value per stage, as the reference's cast_tuple does.
 *
 * <p>{@code resnet_block_groups} is accepted for configs written by reference versions before 2.0
 * (GroupNorm); from 2.0 the blocks normalise with RMSNorm, which has no groups, so it has no effect.
 */
public record UnetConfig(
    int spatialRank,
    int dim,
    int initDim,
    int outDim,
    int[] dimMults,
    int channels,
    boolean selfCondition,
    boolean learnedVariance,
    boolean learnedSinusoidalCond,
    boolean randomFourierFeatures,
    int learnedSinusoidalDim,
    double sinusoidalPosEmbTheta,
    double dropout,
    int[] attnDimHead,
    int[] attnHeads,
    boolean[] fullAttn,
    boolean flashAttn) implements NetworkConfig {

  public static Builder builder(int dim) {
    return new Builder(2, dim);
  }

  public static Builder builder1d(int dim) {
    return new Builder(1, dim);
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
    return dimMults.length;
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
    Builder b = new Builder(spatialRank, o.getInt("dim", 0));
    b.initDim = o.getIntOrNull("init_dim");
    b.outDim = o.getIntOrNull("out_dim");
    b.dimMults = o.getInts("dim_mults", b.dimMults);
    b.channels = o.getInt("channels", b.channels);
    b.selfCondition = o.getBool("self_condition", false);
    b.learnedVariance = o.getBool("learned_variance", false);
    b.learnedSinusoidalCond = o.getBool("learned_sinusoidal_cond", false);
    b.randomFourierFeatures = o.getBool("random_fourier_features", false);
    b.learnedSinusoidalDim = o.getInt("learned_sinusoidal_dim", b.learnedSinusoidalDim);
    b.sinusoidalPosEmbTheta = o.getDouble("sinusoidal_pos_emb_theta", b.sinusoidalPosEmbTheta);
    b.dropout = o.getDouble("dropout", 0);
    if (spatialRank == 2) {
      b.attnDimHead = o.getInts("attn_dim_head", b.attnDimHead);
      b.attnHeads = o.getInts("attn_heads", b.attnHeads);
      b.fullAttn = o.getBools("full_attn", null);
      b.flashAttn = o.getBool("flash_attn", false);
      o.getIntOrNull("resnet_block_groups");
    } else {
      b.attnDimHead = new int[] {o.getInt("attn_dim_head", 32)};
      b.attnHeads = new int[] {o.getInt("attn_heads", 4)};
    }
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
    j.addProperty("dim", dim);
    j.addProperty("init_dim", initDim);
    j.addProperty("out_dim", outDim);
    j.add("dim_mults", JsonOptions.array(dimMults));
    j.addProperty("channels", channels);
    j.addProperty("self_condition", selfCondition);
    j.addProperty("learned_variance", learnedVariance);
    j.addProperty("learned_sinusoidal_cond", learnedSinusoidalCond);
    j.addProperty("random_fourier_features", randomFourierFeatures);
    j.addProperty("learned_sinusoidal_dim", learnedSinusoidalDim);
    j.addProperty("sinusoidal_pos_emb_theta", sinusoidalPosEmbTheta);
    j.addProperty("dropout", dropout);
    if (spatialRank == 2) {
      j.add("attn_dim_head", JsonOptions.array(attnDimHead));
      j.add("attn_heads", JsonOptions.array(attnHeads));
      JsonArray full = new JsonArray();
      for (boolean f : fullAttn) {
        full.add(f);
      }
      j.add("full_attn", full);
      j.addProperty("flash_attn", flashAttn);
    } else {
      j.addProperty("attn_dim_head", attnDimHead[0]);
      j.addProperty("attn_heads", attnHeads[0]);
    }
    return j;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UnetConfig c && toJson().equals(c.toJson());
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
    private final int dim;
    private Integer initDim;
    private Integer outDim;
    private int[] dimMults = {1, 2, 4, 8};
    private int channels = 3;
    private boolean selfCondition;
    private boolean learnedVariance;
    private boolean learnedSinusoidalCond;
    private boolean randomFourierFeatures;
    private int learnedSinusoidalDim = 16;
    private double sinusoidalPosEmbTheta = 10000;
    private double dropout;
    private int[] attnDimHead = {32};
    private int[] attnHeads = {4};
    private boolean[] fullAttn;
    private boolean flashAttn;

    private Builder(int spatialRank, int dim) {
      this.spatialRank = spatialRank;
      this.dim = dim;
    }

    public Builder initDim(int v) { initDim = v; return this; }
    public Builder outDim(int v) { outDim = v; return this; }
    public Builder dimMults(int... v) { dimMults = v.clone(); return this; }
    public Builder channels(int v) { channels = v; return this; }
    public Builder selfCondition(boolean v) { selfCondition = v; return this; }
    public Builder learnedVariance(boolean v) { learnedVariance = v; return this; }
    public Builder learnedSinusoidalCond(boolean v) { learnedSinusoidalCond = v; return this; }
    public Builder randomFourierFeatures(boolean v) { randomFourierFeatures = v; return this; }
    public Builder learnedSinusoidalDim(int v) { learnedSinusoidalDim = v; return this; }
    public Builder sinusoidalPosEmbTheta(double v) { sinusoidalPosEmbTheta = v; return this; }
    public Builder dropout(double v) { dropout = v; return this; }
    public Builder attnDimHead(int... v) { attnDimHead = v.clone(); return this; }
    public Builder attnHeads(int... v) { attnHeads = v.clone(); return this; }
    public Builder fullAttn(boolean... v) { fullAttn = v.clone(); return this; }
    public Builder flashAttn(boolean v) { flashAttn = v; return this; }

    public UnetConfig build() {
      positive("dim", dim);
      if (dimMults.length == 0) {
        throw new IllegalArgumentException("dim_mults must list at least one stage");
      }
      for (int m : dimMults) {
        positive("dim_mults", m);
      }
      positive("channels", channels);
      int init = initDim == null ? dim : initDim;
      positive("init_dim", init);
      int out = outDim == null ? channels * (learnedVariance ? 2 : 1) : outDim;
      positive("out_dim", out);
      positive("learned_sinusoidal_dim", learnedSinusoidalDim);
      if ((learnedSinusoidalCond || randomFourierFeatures) && learnedSinusoidalDim % 2 != 0) {
        throw new IllegalArgumentException("learned_sinusoidal_dim = " + learnedSinusoidalDim + " must be even");
      }
      if (!(learnedSinusoidalCond || randomFourierFeatures) && dim < 4) {
        throw new IllegalArgumentException("dim = " + dim + " is too small for the sinusoidal time embedding (at least 4)");
      }
      if (!(sinusoidalPosEmbTheta > 1)) {
        throw new IllegalArgumentException("sinusoidal_pos_emb_theta = " + sinusoidalPosEmbTheta + " must be > 1");
      }
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("dropout = " + dropout + " must be in [0, 1)");
      }
      int stages = dimMults.length;
      boolean[] full = fullAttn;
      if (full == null || (full.length == 1 && !full[0])) {
        // the reference's `if not full_attn` (None or a bare False): full attention innermost only
        full = new boolean[stages];
        full[stages - 1] = true;
      }
      return new UnetConfig(spatialRank, dim, init, out, dimMults.clone(), channels, selfCondition,
          learnedVariance, learnedSinusoidalCond, randomFourierFeatures, learnedSinusoidalDim,
          sinusoidalPosEmbTheta, dropout,
          perStage("attn_dim_head", attnDimHead, stages), perStage("attn_heads", attnHeads, stages),
          perStage(full, stages), flashAttn);
    }

    private int[] perStage(String name, int[] v, int stages) {
      for (int x : v) {
        positive(name, x);
      }
      if (spatialRank == 1) {
        if (v.length != 1) {
          throw new IllegalArgumentException(name + " = " + Arrays.toString(v) + ": Unet1D takes a single integer");
        }
        return v.clone();
      }
      if (v.length == 1) {
        int[] out = new int[stages];
        Arrays.fill(out, v[0]);
        return out;
      }
      if (v.length != stages) {
        throw new IllegalArgumentException(name + " = " + Arrays.toString(v) + " must have one value per stage ("
            + stages + ", as dim_mults) or be a single integer");
      }
      return v.clone();
    }

    private static boolean[] perStage(boolean[] v, int stages) {
      if (v.length == 1) {
        boolean[] out = new boolean[stages];
        Arrays.fill(out, v[0]);
        return out;
      }
      if (v.length != stages) {
        throw new IllegalArgumentException("full_attn = " + Arrays.toString(v) + " must have one value per stage ("
            + stages + ", as dim_mults) or be a single boolean");
      }
      return v.clone();
    }

    private static void positive(String name, int v) {
      if (v <= 0) {
        throw new IllegalArgumentException(name + " = " + v + " must be a positive integer");
      }
    }
  }
}
