package io.diffusion4j.diffusion;

import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.ConfigRecords.Key;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.models.Network;
import java.util.List;

/**
 * The options of the reference's ElucidatedDiffusion (Karras et al. 2022), with its names and
 * defaults (the builder's fields). The reference is 2-D only; here the size follows the
 * network's rank: {@code image_size} (int or [h, w]), {@code seq_length}, or {@code frames} and
 * {@code image_size}.
 *
 * @param shape the spatial size: [h, w], [l] or [frames, h, w]
 */
public record ElucidatedDiffusionConfig(
    @Internal int spatialRank,
    @Internal List<Integer> shape,
    int channels,
    int numSampleSteps,
    double sigmaMin,
    double sigmaMax,
    double sigmaData,
    double rho,
    double pMean,
    double pStd,
    double sChurn,
    double sTmin,
    double sTmax,
    double sNoise,
    String sampler) implements DiffusionConfig {

  public static final String TYPE = "ElucidatedDiffusion";

  public ElucidatedDiffusionConfig {
    shape = DiffusionConfig.checkSize(shape);
    Check.atLeast("channels", channels, 1);
    Check.atLeast("num_sample_steps", numSampleSteps, 1);
    if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) {
      throw new IllegalArgumentException("sigma_min = " + sigmaMin + " and sigma_max = " + sigmaMax
          + " must satisfy 0 < sigma_min < sigma_max");
    }
    Check.positive("sigma_data", sigmaData);
    Check.positive("rho", rho);
    Check.positive("P_std", pStd);
    Check.nonNegative("S_churn", sChurn);
    Check.nonNegative("S_noise", sNoise);
  }

  public static Builder builder(int... size) {
    return new Builder(size);
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public int[] size() {
    return shape.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public ElucidatedDiffusion create(Network network) {
    return new ElucidatedDiffusion(network, this);
  }

  /** Reads the section for a network of {@code spatialRank} spatial dimensions with {@code channels} (the default). */
  public static ElucidatedDiffusionConfig fromJson(JsonOptions o, int spatialRank, int networkChannels) {
    Builder b = builder(DiffusionConfig.readSize(o, spatialRank).stream().mapToInt(Integer::intValue).toArray());
    b.channels = networkChannels;
    ConfigRecords.read(o, b);
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("diffusion: " + e.getMessage(), e);
    }
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", TYPE);
    DiffusionConfig.writeSize(j, shape);
    ConfigRecords.write(this, Builder.class).entrySet().forEach(e -> j.add(e.getKey(), e.getValue()));
    return j;
  }

  /** The options with the reference's defaults; every setter takes the option of the same (camelCase) name. */
  public static final class Builder {
    private final transient int[] size;
    private int channels = 3;
    private int numSampleSteps = 32;
    private double sigmaMin = 0.002;
    private double sigmaMax = 80;
    private double sigmaData = 0.5;
    private double rho = 7;
    @Key("P_mean")
    private double pMean = -1.2;
    @Key("P_std")
    private double pStd = 1.2;
    @Key("S_churn")
    private double sChurn = 80;
    @Key("S_tmin")
    private double sTmin = 0.05;
    @Key("S_tmax")
    private double sTmax = 50;
    @Key("S_noise")
    private double sNoise = 1.003;
    /** null: Heun, the reference's sampler. */
    private String sampler;

    private Builder(int[] size) {
      this.size = size.clone();
    }

    public Builder channels(int v) { channels = v; return this; }
    public Builder numSampleSteps(int v) { numSampleSteps = v; return this; }
    public Builder sigmaMin(double v) { sigmaMin = v; return this; }
    public Builder sigmaMax(double v) { sigmaMax = v; return this; }
    public Builder sigmaData(double v) { sigmaData = v; return this; }
    public Builder rho(double v) { rho = v; return this; }
    public Builder pMean(double v) { pMean = v; return this; }
    public Builder pStd(double v) { pStd = v; return this; }
    public Builder sChurn(double v) { sChurn = v; return this; }
    public Builder sTmin(double v) { sTmin = v; return this; }
    public Builder sTmax(double v) { sTmax = v; return this; }
    public Builder sNoise(double v) { sNoise = v; return this; }
    public Builder sampler(String v) { sampler = v; return this; }

    public ElucidatedDiffusionConfig build() {
      List<Integer> shape = java.util.Arrays.stream(size).boxed().toList();
      return new ElucidatedDiffusionConfig(size.length, shape, channels, numSampleSteps, sigmaMin, sigmaMax,
          sigmaData, rho, pMean, pStd, sChurn, sTmin, sTmax, sNoise, sampler);
    }
  }
}
