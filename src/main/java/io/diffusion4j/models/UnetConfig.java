package io.diffusion4j.models;

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
import org.immutables.value.Value;

/**
 * The options of the reference's {@code Unet} (2-D) and {@code Unet1D}, with its names and
 * defaults (each option one method below). Per-stage options (attn_heads, attn_dim_head, full_attn) are
 * stored expanded to one value per stage, as the reference's cast_tuple does; Unet1D takes one
 * head count and size for all its stages.
 *
 * <p>{@code resnet_block_groups} is accepted for configs written by reference versions before 2.0
 * (GroupNorm); from 2.0 the blocks normalise with RMSNorm, which has no groups, so it has no effect.
 */
@Value.Immutable
@Config
public interface UnetConfig extends NetworkConfig {
  @Internal
  @Override
  int spatialRank();
  int dim();
  /** dim unless given. */
  @Value.Default default int initDim() { return dim(); }
  /** channels, twice that with learned_variance, unless given. */
  @Value.Default default int outDim() { return channels() * (learnedVariance() ? 2 : 1); }
  @Value.Default default List<Integer> dimMults() { return List.of(1, 2, 4, 8); }
  @Override
  @Value.Default default int channels() { return 3; }
  @Value.Default default boolean selfCondition() { return false; }
  @Value.Default default boolean learnedVariance() { return false; }
  @Value.Default default boolean learnedSinusoidalCond() { return false; }
  @Value.Default default boolean randomFourierFeatures() { return false; }
  @Value.Default default int learnedSinusoidalDim() { return 16; }
  @Value.Default default double sinusoidalPosEmbTheta() { return 10000; }
  @Value.Default default double dropout() { return 0; }
  @Value.Default default List<Integer> attnDimHead() { return List.of(32); }
  @Value.Default default List<Integer> attnHeads() { return List.of(4); }
  /** null: full attention at the innermost stage only. */
  @Nullable List<Boolean> fullAttn();
  @Value.Default default boolean flashAttn() { return false; }

  /** Options of the 2-D Unet only. */
  String[] TWO_D = {"full_attn", "flash_attn"};

  /** Checks the options, and expands the per-stage ones to one value per stage. */
  /** The builder, starting from the defaults above. */
  class Builder extends ImmutableUnetConfig.Builder {}

  @Value.Check
  default UnetConfig checked() {
    positive("dim", dim());
    if (dimMults().isEmpty()) {
      throw new IllegalArgumentException("dim_mults must list at least one stage");
    }
    dimMults().forEach(m -> positive("dim_mults", m));
    positive("channels", channels());
    positive("init_dim", initDim());
    positive("out_dim", outDim());
    positive("learned_sinusoidal_dim", learnedSinusoidalDim());
    if (randomOrLearnedSinusoidalCond()) {
      Check.even("learned_sinusoidal_dim", learnedSinusoidalDim());
    } else if (dim() < 4) {
      throw new IllegalArgumentException("dim = " + dim() + " is too small for the sinusoidal time embedding (at least 4)");
    }
    if (!(sinusoidalPosEmbTheta() > 1)) {
      throw new IllegalArgumentException("sinusoidal_pos_emb_theta = " + sinusoidalPosEmbTheta() + " must be > 1");
    }
    Check.within("dropout", dropout(), 0, 1, true);
    int stages = stages();
    List<Integer> attnDimHead = perStage("attn_dim_head", attnDimHead(), stages, spatialRank());
    List<Integer> attnHeads = perStage("attn_heads", attnHeads(), stages, spatialRank());
    attnDimHead.forEach(v -> positive("attn_dim_head", v));
    attnHeads.forEach(v -> positive("attn_heads", v));
    // the reference's `if not full_attn` (None or a bare False): full attention innermost only
    List<Boolean> fullAttn = fullAttn() == null || fullAttn().equals(List.of(false))
        ? innermost(stages) : perStage("full_attn", fullAttn(), stages, 2);
    if (attnDimHead.equals(attnDimHead()) && attnHeads.equals(attnHeads()) && fullAttn.equals(fullAttn())) {
      return this;
    }
    return new Builder().from(this).attnDimHead(attnDimHead).attnHeads(attnHeads).fullAttn(fullAttn).build();
  }

  static Builder builder(int dim) {
    return new Builder().spatialRank(2).dim(dim);
  }

  static Builder builder1d(int dim) {
    return new Builder().spatialRank(1).dim(dim);
  }

  @Override
  default String type() {
    return spatialRank() == 1 ? "Unet1D" : "Unet";
  }

  @Override
  default Network create(Parameters parameters) {
    return Unet.create(parameters, this);
  }

  default int stages() {
    return dimMults().size();
  }

  /** Spatial sizes must be divisible by this: each stage but the last halves them. */
  default int downsampleFactor() {
    return 1 << (stages() - 1);
  }

  /** True when the time input is a continuous noise level embedded by random Fourier features. */
  default boolean randomOrLearnedSinusoidalCond() {
    return learnedSinusoidalCond() || randomFourierFeatures();
  }

  @Override
  default int outputChannels() {
    return outDim();
  }

  @Override
  default Network.TimeInput timeInput() {
    return randomOrLearnedSinusoidalCond() ? Network.TimeInput.CONTINUOUS : Network.TimeInput.DISCRETE;
  }

  static UnetConfig fromJson(JsonOptions o, int spatialRank) {
    if (!o.has("dim")) {
      throw new IllegalArgumentException("model.dim is required (the base channel count)");
    }
    if (spatialRank == 1) {
      return ConfigRecords.build(o, new Builder().spatialRank(1), TWO_D);
    }
    o.getIntOrNull("resnet_block_groups");
    return ConfigRecords.build(o, new Builder().spatialRank(2));
  }

  /** The options as config.json holds them; Unet1D's head count and size are single integers. */
  @Override
  default JsonObject toJson() {
    JsonObject j = NetworkConfig.super.toJson();
    if (spatialRank() == 1) {
      for (String key : TWO_D) {
        j.remove(key);
      }
      j.addProperty("attn_dim_head", attnDimHead().get(0));
      j.addProperty("attn_heads", attnHeads().get(0));
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
}
