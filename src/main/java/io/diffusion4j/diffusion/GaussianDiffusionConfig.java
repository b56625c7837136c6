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
 * schedule; 1-D: pred_noise with the cosine schedule), and of the modules that reuse its maths
 * ({@link Module}): each reads its own options and refuses the others'. Offset noise and min-SNR
 * weighting work in 1-D too.
 *
 * @param shape image [h, w] or sequence [seq_length]
 * @param samplingTimesteps DDIM is used when fewer than timesteps
 * @param sampler the catalogue's solver to sample with by default (diffusion4j's own option), or
 *     null for the reference's choice: DDIM when sampling_timesteps is below timesteps, else DDPM
 */
public record GaussianDiffusionConfig(
    @Internal int spatialRank,
    @Internal Module module,
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
    boolean useCfgPlusPlus,
    double vbLossWeight,
    double predNoiseLossWeight,
    double predXStartLossWeight,
    String sampler) implements DiffusionConfig {

  /**
   * The reference's modules built on this diffusion, with the options each adds. The learned and
   * weighted ones subclass the 2-D GaussianDiffusion (its defaults, any rank here); the
   * classifier_free_guidance module has its own defaults (pred_noise, cosine, ddim_sampling_eta 1),
   * linear and cosine schedules only, no auto_normalize.
   */
  public enum Module {
    PLAIN(null),
    GUIDED("classifier_free_guidance.GaussianDiffusion", "use_cfg_plus_plus"),
    /** Nichol and Dhariwal 2021: the network also predicts where its variance lies between beta and the posterior's. */
    LEARNED("LearnedGaussianDiffusion", "vb_loss_weight"),
    /** The network predicts noise and x0 and how to weight the two (the reference's improvisation). */
    WEIGHTED("WeightedObjectiveGaussianDiffusion", "pred_noise_loss_weight", "pred_x_start_loss_weight");

    private static final List<String> OWN = List.of("use_cfg_plus_plus", "vb_loss_weight", "pred_noise_loss_weight",
        "pred_x_start_loss_weight");
    private final String type;
    private final List<String> own;

    Module(String type, String... own) {
      this.type = type;
      this.own = List.of(own);
    }

    /** The config.json type, or null for GaussianDiffusion(1D), named by rank. */
    public String type() {
      return type;
    }

    public static Module ofType(String type) {
      return java.util.Arrays.stream(values()).filter(m -> m.type != null && m.type.equals(type)).findFirst()
          .orElse(null);
    }

    /** The options of other modules, and auto_normalize for the guided one. */
    String[] notTaken() {
      List<String> out = new java.util.ArrayList<>(OWN);
      out.removeAll(own);
      if (this == GUIDED) {
        out.add("auto_normalize");
      }
      return out.toArray(new String[0]);
    }

    /** The network's output channels it reads for data of {@code channels}. */
    public int outDim(int channels) {
      return switch (this) {
        case LEARNED -> 2 * channels;
        case WEIGHTED -> 2 * channels + 2;
        default -> channels;
      };
    }
  }

  public static final String GUIDED_TYPE = Module.GUIDED.type();

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
    boolean guided = module == Module.GUIDED;
    if (guided && betaSchedule != BetaSchedule.LINEAR && betaSchedule != BetaSchedule.COSINE) {
      throw new IllegalArgumentException("beta_schedule = \"" + betaSchedule.configName() + "\" is not allowed for "
          + GUIDED_TYPE + ": expected linear or cosine");
    }
    if (useCfgPlusPlus && !guided) {
      throw new IllegalArgumentException("use_cfg_plus_plus is an option of " + GUIDED_TYPE + " only");
    }
    Check.nonNegative("vb_loss_weight", vbLossWeight);
    Check.nonNegative("pred_noise_loss_weight", predNoiseLossWeight);
    Check.nonNegative("pred_x_start_loss_weight", predXStartLossWeight);
    if (module == Module.LEARNED && objective != Objective.PRED_NOISE) {
      throw new IllegalArgumentException("objective = \"" + objective.configName() + "\" is not allowed for "
          + module.type() + ": its variational bound and its simple loss read the network's first half as noise"
          + " (as the reference's p_mean_variance and p_losses do, whatever the objective): set objective pred_noise");
    }
    if ((module == Module.LEARNED || module == Module.WEIGHTED) && (offsetNoiseStrength > 0 || minSnrLossWeight)) {
      throw new IllegalArgumentException((offsetNoiseStrength > 0 ? "offset_noise_strength = " + offsetNoiseStrength
          : "min_snr_loss_weight = true") + " is not allowed for " + module.type() + ": its own loss has no offset"
          + " noise nor min-SNR weight (the reference accepts and ignores them)");
    }
    // the schedule must be computable from these options
    betaSchedule.betas(timesteps, scheduleFnKwargs);
  }

  @Override
  public String type() {
    return module.type() != null ? module.type() : spatialRank == 1 ? "GaussianDiffusion1D" : "GaussianDiffusion";
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
    return new Builder(2, Module.PLAIN, List.of(height, width));
  }

  /** The classifier_free_guidance module's GaussianDiffusion with its defaults. */
  public static Builder guidedBuilder(int height, int width) {
    return new Builder(2, Module.GUIDED, List.of(height, width));
  }

  /** 1-D sequence diffusion with the reference's defaults. */
  public static Builder builder1d(int seqLength) {
    return new Builder(1, Module.PLAIN, List.of(seqLength));
  }

  /** Diffusion of {@code module} over a network of {@code spatialRank}, of the given size. */
  public static Builder builder(Module module, int... size) {
    return new Builder(size.length, module, java.util.Arrays.stream(size).boxed().toList());
  }

  /** @param module the reference's module (the guided one is rank 2) */
  public static GaussianDiffusionConfig fromJson(JsonOptions o, int spatialRank, Module module) {
    boolean guided = module == Module.GUIDED;
    Builder b = new Builder(spatialRank, module, DiffusionConfig.readSize(o, spatialRank));
    ConfigRecords.read(o, b, module.notTaken());
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
    for (String key : module.notTaken()) {
      j.remove(key);
    }
    if (module != Module.GUIDED) {
      JsonObject kw = new JsonObject();
      scheduleFnKwargs.forEach(kw::addProperty);
      j.add("schedule_fn_kwargs", kw);
    }
    return j;
  }

  /** The options with the reference's defaults; every setter takes the option of the same (camelCase) name. */
  public static final class Builder {
    private final transient int spatialRank;
    private final transient Module module;
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
    private double vbLossWeight = 0.001;
    private double predNoiseLossWeight = 0.1;
    private double predXStartLossWeight = 0.1;
    /** null: the reference's choice (see the record). */
    private String sampler;

    private Builder(int spatialRank, Module module, List<Integer> shape) {
      this.spatialRank = spatialRank;
      this.module = module;
      this.shape = shape;
      boolean guided = module == Module.GUIDED;
      // the learned and weighted modules subclass the 2-D GaussianDiffusion, whatever the rank here
      boolean v = (spatialRank == 2 || module == Module.LEARNED || module == Module.WEIGHTED) && !guided;
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
    public Builder vbLossWeight(double v) { vbLossWeight = v; return this; }
    public Builder predNoiseLossWeight(double v) { predNoiseLossWeight = v; return this; }
    public Builder predXStartLossWeight(double v) { predXStartLossWeight = v; return this; }
    public Builder sampler(String v) { sampler = v; return this; }

    public GaussianDiffusionConfig build() {
      return new GaussianDiffusionConfig(spatialRank, module, shape, timesteps,
          samplingTimesteps == null ? timesteps : samplingTimesteps, objective, betaSchedule,
          scheduleFnKwargs, ddimSamplingEta, autoNormalize, offsetNoiseStrength, minSnrLossWeight,
          minSnrGamma, useCfgPlusPlus, vbLossWeight, predNoiseLossWeight, predXStartLossWeight, sampler);
    }
  }
}
