package io.diffusion4j.diffusion;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.JsonOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The options of the reference's GaussianDiffusion (2-D) and GaussianDiffusion1D, with their
 * names and their different defaults (the builder's fields; 2-D: pred_v with the sigmoid
 * schedule; 1-D: pred_noise with the cosine schedule). Offset noise and min-SNR weighting work in
 * 1-D too.
 *
 * <p>The classifier_free_guidance module's GaussianDiffusion is the same diffusion with its own
 * defaults (pred_noise, cosine, ddim_sampling_eta 1), linear and cosine schedules only, no
 * auto_normalize, and use_cfg_plus_plus.
 *
 * @param shape image [h, w] or sequence [seq_length]
 * @param samplingTimesteps DDIM is used when fewer than timesteps
 */
public record GaussianDiffusionConfig(
    @Internal int spatialRank,
    @Internal boolean guided,
    @Internal List<Integer> shape,
    int timesteps,
    int samplingTimesteps,
    Objective objective,
    BetaSchedule betaSchedule,
    @Internal Map<String, Double> scheduleFnKwargs,
    double ddimSamplingEta,
    boolean autoNormalize,
    double offsetNoiseStrength,
    boolean minSnrLossWeight,
    double minSnrGamma,
    boolean useCfgPlusPlus) implements DiffusionConfig {

  public static final String GUIDED_TYPE = "classifier_free_guidance.GaussianDiffusion";
  /** Options of one of the two modules only. */
  private static final String[] GUIDED_ONLY = {"use_cfg_plus_plus"};
  private static final String[] PLAIN_ONLY = {"auto_normalize"};

  public GaussianDiffusionConfig {
    shape = DiffusionConfig.checkSize(shape);
    scheduleFnKwargs = Map.copyOf(scheduleFnKwargs);
    Check.atLeast("timesteps", timesteps, 1);
    if (samplingTimesteps < 1 || samplingTimesteps > timesteps) {
      throw new IllegalArgumentException("sampling_timesteps = " + samplingTimesteps
          + " must be between 1 and timesteps (" + timesteps + ")");
    }
    Check.nonNegative("ddim_sampling_eta", ddimSamplingEta);
    Check.nonNegative("offset_noise_strength", offsetNoiseStrength);
    Check.positive("min_snr_gamma", minSnrGamma);
    if (guided && betaSchedule != BetaSchedule.LINEAR && betaSchedule != BetaSchedule.COSINE) {
      throw new IllegalArgumentException("beta_schedule = \"" + betaSchedule.configName() + "\" is not allowed for "
          + GUIDED_TYPE + ": expected linear or cosine");
    }
    if (useCfgPlusPlus && !guided) {
      throw new IllegalArgumentException("use_cfg_plus_plus is an option of " + GUIDED_TYPE + " only");
    }
    // the schedule must be computable from these options
    betaSchedule.betas(timesteps, scheduleFnKwargs);
  }

  @Override
  public String type() {
    return guided ? GUIDED_TYPE : spatialRank == 1 ? "GaussianDiffusion1D" : "GaussianDiffusion";
  }

  @Override
  public int[] size() {
    return shape.stream().mapToInt(Integer::intValue).toArray();
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
    return new Builder(2, false, List.of(height, width));
  }

  /** The classifier_free_guidance module's GaussianDiffusion with its defaults. */
  public static Builder guidedBuilder(int height, int width) {
    return new Builder(2, true, List.of(height, width));
  }

  /** 1-D sequence diffusion with the reference's defaults. */
  public static Builder builder1d(int seqLength) {
    return new Builder(1, false, List.of(seqLength));
  }

  /** @param guided the classifier_free_guidance module's (rank 2) */
  public static GaussianDiffusionConfig fromJson(JsonOptions o, int spatialRank, boolean guided) {
    Builder b = new Builder(spatialRank, guided, DiffusionConfig.readSize(o, spatialRank));
    ConfigRecords.read(o, b, guided ? PLAIN_ONLY : GUIDED_ONLY);
    if (guided) {
      // the module has no schedule_fn_kwargs, immiscible or 1-D options: finish() names them
    } else if (spatialRank == 1) {
      // layout is channels-last in diffusion4j whatever the Python tensors were; these only
      // overrode what the network already says
      o.get("channel_first");
      o.get("channels");
      o.get("self_condition");
    } else if (o.getBool("immiscible", false)) {
      throw o.bad("immiscible", true, "false (immiscible noise assignment is not implemented)");
    }
    JsonElement kwargs = guided ? null : o.get("schedule_fn_kwargs");
    if (kwargs != null && !kwargs.isJsonNull()) {
      if (!kwargs.isJsonObject()) {
        throw o.bad("schedule_fn_kwargs", kwargs, "an object of numbers");
      }
      for (Map.Entry<String, JsonElement> e : kwargs.getAsJsonObject().entrySet()) {
        JsonElement v = e.getValue();
        if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber())) {
          throw o.bad("schedule_fn_kwargs." + e.getKey(), v, "a number");
        }
        b.scheduleFnKwarg(e.getKey(), v.getAsDouble());
      }
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("diffusion: " + e.getMessage(), e);
    }
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", type());
    DiffusionConfig.writeSize(j, shape);
    ConfigRecords.write(this, Builder.class).entrySet().forEach(e -> j.add(e.getKey(), e.getValue()));
    for (String key : guided ? PLAIN_ONLY : GUIDED_ONLY) {
      j.remove(key);
    }
    if (!guided) {
      JsonObject kw = new JsonObject();
      scheduleFnKwargs.forEach(kw::addProperty);
      j.add("schedule_fn_kwargs", kw);
    }
    return j;
  }

  /** The options with the reference's defaults; every setter takes the option of the same (camelCase) name. */
  public static final class Builder {
    private final transient int spatialRank;
    private final transient boolean guided;
    private final transient List<Integer> shape;
    private final transient Map<String, Double> scheduleFnKwargs = new LinkedHashMap<>();
    private int timesteps = 1000;
    /** null: timesteps (no DDIM). */
    private Integer samplingTimesteps;
    private Objective objective;
    private BetaSchedule betaSchedule;
    private double ddimSamplingEta = 0;
    private boolean autoNormalize = true;
    private double offsetNoiseStrength = 0;
    private boolean minSnrLossWeight = false;
    private double minSnrGamma = 5;
    private boolean useCfgPlusPlus = false;

    private Builder(int spatialRank, boolean guided, List<Integer> shape) {
      this.spatialRank = spatialRank;
      this.guided = guided;
      this.shape = shape;
      boolean v = spatialRank == 2 && !guided;
      this.objective = v ? Objective.PRED_V : Objective.PRED_NOISE;
      this.betaSchedule = v ? BetaSchedule.SIGMOID : BetaSchedule.COSINE;
      this.ddimSamplingEta = guided ? 1 : 0;
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
    public Builder useCfgPlusPlus(boolean v) { useCfgPlusPlus = v; return this; }

    public GaussianDiffusionConfig build() {
      return new GaussianDiffusionConfig(spatialRank, guided, shape, timesteps,
          samplingTimesteps == null ? timesteps : samplingTimesteps, objective, betaSchedule,
          scheduleFnKwargs, ddimSamplingEta, autoNormalize, offsetNoiseStrength, minSnrLossWeight,
          minSnrGamma, useCfgPlusPlus);
    }
  }
}
