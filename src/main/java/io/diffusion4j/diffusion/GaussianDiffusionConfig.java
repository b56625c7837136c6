package io.diffusion4j.diffusion;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.diffusion4j.io.JsonOptions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The options of the reference's GaussianDiffusion (2-D) and GaussianDiffusion1D, with their
 * names and their different defaults (2-D: pred_v with the sigmoid schedule; 1-D: pred_noise with
 * the cosine schedule). Offset noise and min-SNR weighting work in 1-D too.
 *
 * @param size image [h, w] or sequence [seq_length]
 * @param samplingTimesteps DDIM is used when fewer than timesteps
 */
public record GaussianDiffusionConfig(
    int spatialRank,
    int[] size,
    int timesteps,
    int samplingTimesteps,
    Objective objective,
    BetaSchedule betaSchedule,
    Map<String, Double> scheduleFnKwargs,
    double ddimSamplingEta,
    boolean autoNormalize,
    double offsetNoiseStrength,
    boolean minSnrLossWeight,
    double minSnrGamma) implements DiffusionConfig {

  public GaussianDiffusionConfig {
    size = size.clone();
    scheduleFnKwargs = Map.copyOf(scheduleFnKwargs);
    for (int s : size) {
      if (s <= 0) {
        throw new IllegalArgumentException((spatialRank == 1 ? "seq_length" : "image_size") + " = "
            + Arrays.toString(size) + " must be positive");
      }
    }
    if (timesteps < 1) {
      throw new IllegalArgumentException("timesteps = " + timesteps + " must be at least 1");
    }
    if (samplingTimesteps < 1 || samplingTimesteps > timesteps) {
      throw new IllegalArgumentException("sampling_timesteps = " + samplingTimesteps
          + " must be between 1 and timesteps (" + timesteps + ")");
    }
    if (!(ddimSamplingEta >= 0)) {
      throw new IllegalArgumentException("ddim_sampling_eta = " + ddimSamplingEta + " must be >= 0");
    }
    if (!(offsetNoiseStrength >= 0)) {
      throw new IllegalArgumentException("offset_noise_strength = " + offsetNoiseStrength + " must be >= 0");
    }
    if (!(minSnrGamma > 0)) {
      throw new IllegalArgumentException("min_snr_gamma = " + minSnrGamma + " must be > 0");
    }
  }

  @Override
  public String type() {
    return spatialRank == 1 ? "GaussianDiffusion1D" : "GaussianDiffusion";
  }

  @Override
  public int[] size() {
    return size.clone();
  }

  @Override
  public GaussianDiffusion create(io.diffusion4j.models.Network network) {
    return new GaussianDiffusion(network, this);
  }

  public boolean isDdimSampling() {
    return samplingTimesteps < timesteps;
  }

  public NoiseSchedule schedule() {
    return new NoiseSchedule(betaSchedule.betas(timesteps, scheduleFnKwargs));
  }

  /** 2-D image diffusion with the reference's defaults. */
  public static Builder builder(int height, int width) {
    return new Builder(2, new int[] {height, width});
  }

  /** 1-D sequence diffusion with the reference's defaults. */
  public static Builder builder1d(int seqLength) {
    return new Builder(1, new int[] {seqLength});
  }

  public static GaussianDiffusionConfig fromJson(JsonOptions o, int spatialRank) {
    Builder b;
    if (spatialRank == 1) {
      if (!o.has("seq_length")) {
        throw new IllegalArgumentException("diffusion.seq_length is required");
      }
      b = builder1d(o.getInt("seq_length", 0));
      // layout is channels-last in diffusion4j whatever the Python tensors were; these only
      // overrode what the network already says
      o.get("channel_first");
      o.get("channels");
      o.get("self_condition");
    } else {
      if (!o.has("image_size")) {
        throw new IllegalArgumentException("diffusion.image_size is required (an int or [h, w])");
      }
      int[] size = o.getInts("image_size", null);
      if (size.length == 1) {
        size = new int[] {size[0], size[0]};
      } else if (size.length != 2) {
        throw o.bad("image_size", o.get("image_size"), "an integer or a list of two integers");
      }
      b = builder(size[0], size[1]);
      if (o.getBool("immiscible", false)) {
        throw o.bad("immiscible", true, "false (immiscible noise assignment is not implemented)");
      }
    }
    b.timesteps = o.getInt("timesteps", b.timesteps);
    b.samplingTimesteps = o.getIntOrNull("sampling_timesteps");
    if (o.has("objective")) {
      b.objective = Objective.parse(o.getString("objective", null));
    }
    if (o.has("beta_schedule")) {
      b.betaSchedule = BetaSchedule.parse(o.getString("beta_schedule", null));
    }
    JsonElement kwargs = o.get("schedule_fn_kwargs");
    if (kwargs != null && !kwargs.isJsonNull()) {
      if (!kwargs.isJsonObject()) {
        throw o.bad("schedule_fn_kwargs", kwargs, "an object of numbers");
      }
      for (Map.Entry<String, JsonElement> e : kwargs.getAsJsonObject().entrySet()) {
        JsonElement v = e.getValue();
        if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber())) {
          throw o.bad("schedule_fn_kwargs." + e.getKey(), v, "a number");
        }
        b.scheduleFnKwargs.put(e.getKey(), v.getAsDouble());
      }
    }
    b.ddimSamplingEta = o.getDouble("ddim_sampling_eta", b.ddimSamplingEta);
    b.autoNormalize = o.getBool("auto_normalize", b.autoNormalize);
    b.offsetNoiseStrength = o.getDouble("offset_noise_strength", b.offsetNoiseStrength);
    b.minSnrLossWeight = o.getBool("min_snr_loss_weight", b.minSnrLossWeight);
    b.minSnrGamma = o.getDouble("min_snr_gamma", b.minSnrGamma);
    try {
      GaussianDiffusionConfig c = b.build();
      c.schedule();
      return c;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("diffusion: " + e.getMessage(), e);
    }
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", type());
    if (spatialRank == 1) {
      j.addProperty("seq_length", size[0]);
    } else {
      j.add("image_size", JsonOptions.array(size));
    }
    j.addProperty("timesteps", timesteps);
    j.addProperty("sampling_timesteps", samplingTimesteps);
    j.addProperty("objective", objective.configName());
    j.addProperty("beta_schedule", betaSchedule.configName());
    JsonObject kw = new JsonObject();
    scheduleFnKwargs.forEach(kw::addProperty);
    j.add("schedule_fn_kwargs", kw);
    j.addProperty("ddim_sampling_eta", ddimSamplingEta);
    j.addProperty("auto_normalize", autoNormalize);
    j.addProperty("offset_noise_strength", offsetNoiseStrength);
    j.addProperty("min_snr_loss_weight", minSnrLossWeight);
    j.addProperty("min_snr_gamma", minSnrGamma);
    return j;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GaussianDiffusionConfig c && toJson().equals(c.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  /** Builds a config; every setter takes the reference's option of the same (camelCase) name. */
  public static final class Builder {
    private final int spatialRank;
    private final int[] size;
    private int timesteps = 1000;
    private Integer samplingTimesteps;
    private Objective objective;
    private BetaSchedule betaSchedule;
    private final Map<String, Double> scheduleFnKwargs = new LinkedHashMap<>();
    private double ddimSamplingEta = 0;
    private boolean autoNormalize = true;
    private double offsetNoiseStrength = 0;
    private boolean minSnrLossWeight = false;
    private double minSnrGamma = 5;

    private Builder(int spatialRank, int[] size) {
      this.spatialRank = spatialRank;
      this.size = size;
      this.objective = spatialRank == 1 ? Objective.PRED_NOISE : Objective.PRED_V;
      this.betaSchedule = spatialRank == 1 ? BetaSchedule.COSINE : BetaSchedule.SIGMOID;
    }

    public Builder timesteps(int v) { timesteps = v; return this; }
    public Builder samplingTimesteps(int v) { samplingTimesteps = v; return this; }
    public Builder objective(Objective v) { objective = v; return this; }
    public Builder betaSchedule(BetaSchedule v) { betaSchedule = v; return this; }
    public Builder scheduleFnKwarg(String key, double v) { scheduleFnKwargs.put(key, v); return this; }
    public Builder ddimSamplingEta(double v) { ddimSamplingEta = v; return this; }
    public Builder autoNormalize(boolean v) { autoNormalize = v; return this; }
    public Builder offsetNoiseStrength(double v) { offsetNoiseStrength = v; return this; }
    public Builder minSnrLossWeight(boolean v) { minSnrLossWeight = v; return this; }
    public Builder minSnrGamma(double v) { minSnrGamma = v; return this; }

    public GaussianDiffusionConfig build() {
      return new GaussianDiffusionConfig(spatialRank, size, timesteps,
          samplingTimesteps == null ? timesteps : samplingTimesteps, objective, betaSchedule,
          scheduleFnKwargs, ddimSamplingEta, autoNormalize, offsetNoiseStrength, minSnrLossWeight,
          minSnrGamma);
    }
  }
}
