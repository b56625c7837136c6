package io.diffusion4j.diffusion;

import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Config;
import io.diffusion4j.io.ConfigRecords.Key;
import io.diffusion4j.io.ConfigRecords.Nullable;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.models.Network;
import java.util.Arrays;
import java.util.List;
import org.immutables.value.Value;

/**
 * The options of the reference's ElucidatedDiffusion (Karras et al. 2022), with its names and
 * defaults (each option one method below). The reference is 2-D only; here the size follows the
 * network's rank: {@code image_size} (int or [h, w]), {@code seq_length}, or {@code frames} and
 * {@code image_size}.
 *
 * <p>The spatial size ({@code shape}) is [h, w], [l] or [frames, h, w].
 */
@Value.Immutable
@Config
public interface ElucidatedDiffusionConfig extends DiffusionConfig {
  String TYPE = "ElucidatedDiffusion";

  @Value.Default default int channels() { return 3; }
  @Value.Default default int numSampleSteps() { return 32; }
  @Value.Default default double sigmaMin() { return 0.002; }
  @Value.Default default double sigmaMax() { return 80; }
  @Value.Default default double sigmaData() { return 0.5; }
  @Value.Default default double rho() { return 7; }
  @Key("P_mean") @Value.Default default double pMean() { return -1.2; }
  @Key("P_std") @Value.Default default double pStd() { return 1.2; }
  @Key("S_churn") @Value.Default default double sChurn() { return 80; }
  @Key("S_tmin") @Value.Default default double sTmin() { return 0.05; }
  @Key("S_tmax") @Value.Default default double sTmax() { return 50; }
  @Key("S_noise") @Value.Default default double sNoise() { return 1.003; }
  /** null: Heun, the reference's sampler. */
  @Override
  @Nullable String sampler();

  /** The builder, starting from the defaults above. */
  class Builder extends ImmutableElucidatedDiffusionConfig.Builder {}

  @Value.Check
  default void check() {
    DiffusionConfig.checkSize(shape());
    Check.atLeast("channels", channels(), 1);
    Check.atLeast("num_sample_steps", numSampleSteps(), 1);
    if (!(sigmaMin() > 0 && sigmaMax() > sigmaMin())) {
      throw new IllegalArgumentException("sigma_min = " + sigmaMin() + " and sigma_max = " + sigmaMax()
          + " must satisfy 0 < sigma_min < sigma_max");
    }
    Check.positive("sigma_data", sigmaData());
    Check.positive("rho", rho());
    Check.positive("P_std", pStd());
    Check.nonNegative("S_churn", sChurn());
    Check.nonNegative("S_noise", sNoise());
  }

  static Builder builder(int... size) {
    return new Builder().shape(Arrays.stream(size).boxed().toList());
  }

  @Override
  default String type() {
    return TYPE;
  }

  @Override
  default ElucidatedDiffusion create(Network network) {
    return new ElucidatedDiffusion(network, this);
  }

  /** Reads the section for a network of {@code spatialRank} spatial dimensions with {@code channels} (the default). */
  static ElucidatedDiffusionConfig fromJson(JsonOptions o, int spatialRank, int networkChannels) {
    return ConfigRecords.build(o, new Builder().shape(DiffusionConfig.readSize(o, spatialRank))
        .channels(networkChannels));
  }
}
