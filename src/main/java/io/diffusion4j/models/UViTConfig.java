package io.diffusion4j.models;

import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Config;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.Collections;
import java.util.List;
import org.immutables.value.Value;

/**
 * The options of the reference's {@code simple_diffusion.UViT} (Hoogeboom et al. 2023, simple
 * diffusion), with its names and defaults (each option one method below): a U-Net whose innermost level is
 * a transformer, conditioned on a continuous noise level (log-SNR). {@code downsampleFactor} is
 * stored expanded to one factor per level, as the reference's cast_tuple does. With
 * {@code patch_size} > 1 the image is first cut into patches, by a strided conv or, with
 * {@code dual_patchnorm}, by LayerNorm-Linear-LayerNorm (dual_patchnorm has no effect without
 * patching, as in the reference).
 *
 * <p>The reference's init_img_transform and final_img_itransform are Python callables, not
 * options.
 */
@Value.Immutable
@Config
public interface UViTConfig extends NetworkConfig {
  String TYPE = "simple_diffusion.UViT";

  int dim();
  /** dim unless given. */
  @Value.Default default int initDim() { return dim(); }
  /** channels * patch_size^2 unless given. */
  @Value.Default default int outDim() { return channels() * patchSize() * patchSize(); }
  @Value.Default default List<Integer> dimMults() { return List.of(1, 2, 4, 8); }
  @Value.Default default List<Integer> downsampleFactor() { return List.of(2); }
  @Override
  @Value.Default default int channels() { return 3; }
  @Value.Default default int vitDepth() { return 6; }
  @Value.Default default double vitDropout() { return 0.2; }
  @Value.Default default int attnDimHead() { return 32; }
  @Value.Default default int attnHeads() { return 4; }
  @Value.Default default int ffMult() { return 4; }
  @Value.Default default int learnedSinusoidalDim() { return 16; }
  @Value.Default default int patchSize() { return 1; }
  @Value.Default default boolean dualPatchnorm() { return false; }

  /** Checks the options, and expands downsample_factor to one factor per level. */
  /** The builder, starting from the defaults above. */
  class Builder extends ImmutableUViTConfig.Builder {}

  @Value.Check
  default UViTConfig checked() {
    Check.atLeast("dim", dim(), 1);
    Check.atLeast("init_dim", initDim(), 1);
    if (dimMults().isEmpty()) {
      throw new IllegalArgumentException("dim_mults must list at least one level");
    }
    dimMults().forEach(m -> Check.atLeast("dim_mults", m, 1));
    List<Integer> downsampleFactor = perLevel(downsampleFactor(), levels());
    downsampleFactor.forEach(f -> Check.atLeast("downsample_factor", f, 1));
    Check.atLeast("channels", channels(), 1);
    Check.atLeast("vit_depth", vitDepth(), 0);
    Check.within("vit_dropout", vitDropout(), 0, 1, true);
    Check.atLeast("attn_dim_head", attnDimHead(), 1);
    Check.atLeast("attn_heads", attnHeads(), 1);
    Check.atLeast("ff_mult", ffMult(), 1);
    Check.atLeast("learned_sinusoidal_dim", learnedSinusoidalDim(), 2);
    Check.even("learned_sinusoidal_dim", learnedSinusoidalDim());
    Check.atLeast("patch_size", patchSize(), 1);
    Check.atLeast("out_dim", outDim(), 1);
    int patchChannels = channels() * patchSize() * patchSize();
    if (patchSize() > 1 && outDim() != patchChannels) {
      throw new IllegalArgumentException("out_dim = " + outDim() + " must be channels * patch_size^2 = "
          + patchChannels + " with patch_size " + patchSize() + ": the unpatchifying transposed conv takes that many"
          + " channels");
    }
    return downsampleFactor.equals(downsampleFactor()) ? this
        : new Builder().from(this).downsampleFactor(downsampleFactor).build();
  }

  static Builder builder(int dim) {
    return new Builder().dim(dim);
  }

  @Override
  default String type() {
    return TYPE;
  }

  /** With patches, the transposed conv's channels: the image's. */
  @Override
  default int outputChannels() {
    return patchSize() > 1 ? channels() : outDim();
  }

  @Override
  default Network.TimeInput timeInput() {
    return Network.TimeInput.CONTINUOUS;
  }

  @Override
  default Network create(Parameters parameters) {
    return new UViT(parameters, this);
  }

  default int levels() {
    return dimMults().size();
  }

  /** Spatial sizes must be divisible by this: the patch size times every level's downsample factor. */
  default int sizeDivisor() {
    return downsampleFactor().stream().reduce(patchSize(), (a, b) -> a * b);
  }

  static UViTConfig fromJson(JsonOptions o) {
    if (!o.has("dim")) {
      throw new IllegalArgumentException("model.dim is required for " + TYPE + " (the base channel count)");
    }
    return ConfigRecords.build(o, new Builder());
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
}
