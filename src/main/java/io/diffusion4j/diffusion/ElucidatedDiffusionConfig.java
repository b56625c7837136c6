package io.diffusion4j.diffusion;

import com.google.gson.JsonObject;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.models.Network;
import java.util.Arrays;

/**
 * The options of the reference's ElucidatedDiffusion (Karras et al. 2022), with its names and
 * defaults: 32 sampling steps, sigma in [0.002, 80], sigma_data 0.5, rho 7, training noise levels
 * log-normal with P_mean -1.2 and P_std 1.2, churn S_churn 80 within [S_tmin 0.05, S_tmax 50] with
 * S_noise 1.003. The reference is 2-D only; here the size follows the network's rank:
 * {@code image_size} (int or [h, w]), {@code seq_length}, or {@code frames} and {@code image_size}.
 */
public record ElucidatedDiffusionConfig(
    int spatialRank,
    int[] size,
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
    double sNoise) implements DiffusionConfig {

  public static final String TYPE = "ElucidatedDiffusion";

  public ElucidatedDiffusionConfig {
    size = size.clone();
    for (int s : size) {
      if (s <= 0) {
        throw new IllegalArgumentException("size " + Arrays.toString(size) + " must be positive");
      }
    }
    if (channels < 1) {
      throw new IllegalArgumentException("channels = " + channels + " must be at least 1");
    }
    if (numSampleSteps < 1) {
      throw new IllegalArgumentException("num_sample_steps = " + numSampleSteps + " must be at least 1");
    }
    if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) {
      throw new IllegalArgumentException("sigma_min = " + sigmaMin + " and sigma_max = " + sigmaMax
          + " must satisfy 0 < sigma_min < sigma_max");
    }
    if (!(sigmaData > 0) || !(rho > 0) || !(pStd > 0) || !(sNoise >= 0) || !(sChurn >= 0)) {
      throw new IllegalArgumentException("sigma_data, rho and P_std must be > 0, S_churn and S_noise >= 0: got "
          + sigmaData + ", " + rho + ", " + pStd + ", " + sChurn + ", " + sNoise);
    }
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
    return size.clone();
  }

  @Override
  public ElucidatedDiffusion create(Network network) {
    return new ElucidatedDiffusion(network, this);
  }

  /** Reads the section for a network of {@code spatialRank} spatial dimensions with {@code channels}. */
  public static ElucidatedDiffusionConfig fromJson(JsonOptions o, int spatialRank, int networkChannels) {
    int[] size = switch (spatialRank) {
      case 1 -> new int[] {required(o, "seq_length")};
      case 2 -> imageSize(o);
      default -> {
        int[] hw = imageSize(o);
        yield new int[] {required(o, "frames"), hw[0], hw[1]};
      }
    };
    Builder b = builder(size);
    b.channels = o.getInt("channels", networkChannels);
    b.numSampleSteps = o.getInt("num_sample_steps", b.numSampleSteps);
    b.sigmaMin = o.getDouble("sigma_min", b.sigmaMin);
    b.sigmaMax = o.getDouble("sigma_max", b.sigmaMax);
    b.sigmaData = o.getDouble("sigma_data", b.sigmaData);
    b.rho = o.getDouble("rho", b.rho);
    b.pMean = o.getDouble("P_mean", b.pMean);
    b.pStd = o.getDouble("P_std", b.pStd);
    b.sChurn = o.getDouble("S_churn", b.sChurn);
    b.sTmin = o.getDouble("S_tmin", b.sTmin);
    b.sTmax = o.getDouble("S_tmax", b.sTmax);
    b.sNoise = o.getDouble("S_noise", b.sNoise);
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("diffusion: " + e.getMessage(), e);
    }
  }

  private static int required(JsonOptions o, String key) {
    if (!o.has(key)) {
      throw new IllegalArgumentException("diffusion." + key + " is required");
    }
    return o.getInt(key, 0);
  }

  private static int[] imageSize(JsonOptions o) {
    if (!o.has("image_size")) {
      throw new IllegalArgumentException("diffusion.image_size is required (an int or [h, w])");
    }
    int[] s = o.getInts("image_size", null);
    if (s.length == 1) {
      return new int[] {s[0], s[0]};
    }
    if (s.length != 2) {
      throw o.bad("image_size", o.get("image_size"), "an integer or a list of two integers");
    }
    return s;
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", TYPE);
    switch (spatialRank) {
      case 1 -> j.addProperty("seq_length", size[0]);
      case 2 -> j.add("image_size", JsonOptions.array(size));
      default -> {
        j.addProperty("frames", size[0]);
        j.add("image_size", JsonOptions.array(size[1], size[2]));
      }
    }
    j.addProperty("channels", channels);
    j.addProperty("num_sample_steps", numSampleSteps);
    j.addProperty("sigma_min", sigmaMin);
    j.addProperty("sigma_max", sigmaMax);
    j.addProperty("sigma_data", sigmaData);
    j.addProperty("rho", rho);
    j.addProperty("P_mean", pMean);
    j.addProperty("P_std", pStd);
    j.addProperty("S_churn", sChurn);
    j.addProperty("S_tmin", sTmin);
    j.addProperty("S_tmax", sTmax);
    j.addProperty("S_noise", sNoise);
    return j;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ElucidatedDiffusionConfig c && toJson().equals(c.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  /** Builds a config; setters take the reference's option names in camelCase. */
  public static final class Builder {
    private final int[] size;
    private int channels = 3;
    private int numSampleSteps = 32;
    private double sigmaMin = 0.002;
    private double sigmaMax = 80;
    private double sigmaData = 0.5;
    private double rho = 7;
    private double pMean = -1.2;
    private double pStd = 1.2;
    private double sChurn = 80;
    private double sTmin = 0.05;
    private double sTmax = 50;
    private double sNoise = 1.003;

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

    public ElucidatedDiffusionConfig build() {
      return new ElucidatedDiffusionConfig(size.length == 1 ? 1 : size.length == 2 ? 2 : 3, size, channels,
          numSampleSteps, sigmaMin, sigmaMax, sigmaData, rho, pMean, pStd, sChurn, sTmin, sTmax, sNoise);
    }
  }
}
