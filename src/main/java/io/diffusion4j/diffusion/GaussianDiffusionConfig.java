package io.diffusion4j.diffusion;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Config;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.ConfigRecords.Nullable;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.models.Network;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.immutables.value.Value;

/**
 * The options of the reference's GaussianDiffusion (2-D) and GaussianDiffusion1D, with their
 * names and their different defaults (each option one method below; 2-D: pred_v with the sigmoid
 * schedule; 1-D: pred_noise with the cosine schedule), and of the modules that reuse its maths
 * ({@link Module}): each reads its own options and refuses the others'. Offset noise and min-SNR
 * weighting work in 1-D too.
 *
 * <p>The spatial size ({@code shape}) is image [h, w] or sequence [seq_length]; the module, the
 * size and the schedule's keyword arguments are not options of their own.
 */
@Value.Immutable
@Config
public interface GaussianDiffusionConfig extends DiffusionConfig {
  @Internal
  Module module();
  @Internal
  Map<String, Double> scheduleFnKwargs();
  @Value.Default default int timesteps() { return 1000; }
  /** timesteps unless given; DDIM is used when fewer. */
  @Value.Default default int samplingTimesteps() { return timesteps(); }
  @Value.Default default Objective objective() { return vDefaults() ? Objective.PRED_V : Objective.PRED_NOISE; }
  @Value.Default default BetaSchedule betaSchedule() { return vDefaults() ? BetaSchedule.SIGMOID : BetaSchedule.COSINE; }
  @Value.Default default double ddimSamplingEta() { return module() == Module.GUIDED ? 1 : 0; }
  @Value.Default default boolean autoNormalize() { return true; }
  @Value.Default default double offsetNoiseStrength() { return 0; }
  @Value.Default default boolean minSnrLossWeight() { return false; }
  @Value.Default default double minSnrGamma() { return 5; }
  @Value.Default default boolean useCfgPlusPlus() { return false; }
  @Value.Default default double vbLossWeight() { return 0.001; }
  @Value.Default default double predNoiseLossWeight() { return 0.1; }
  @Value.Default default double predXStartLossWeight() { return 0.1; }
  /**
   * The catalogue's solver to sample with by default (diffusion4j's own option), or null for the
   * reference's choice: DDIM when sampling_timesteps is below timesteps, else DDPM.
   */
  @Override
  @Nullable String sampler();

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
      return Arrays.stream(values()).filter(m -> m.type != null && m.type.equals(type)).findFirst()
          .orElse(null);
    }

    /** The options of other modules, and auto_normalize for the guided one. */
    List<String> notTaken() {
      List<String> out = new ArrayList<>(OWN);
      out.removeAll(own);
      if (this == GUIDED) {
        out.add("auto_normalize");
      }
      return List.copyOf(out);
    }
  }

  String GUIDED_TYPE = Module.GUIDED.type();

  /**
   * Whether the reference's 2-D defaults apply (pred_v, sigmoid) rather than the 1-D and guided
   * ones (pred_noise, cosine): the learned and weighted modules subclass the 2-D GaussianDiffusion,
   * whatever the rank here.
   */
  private boolean vDefaults() {
    return (spatialRank() == 2 || module() == Module.LEARNED || module() == Module.WEIGHTED)
        && module() != Module.GUIDED;
  }

  /** The builder, starting from the defaults above. */
  class Builder extends ImmutableGaussianDiffusionConfig.Builder {}

  @Value.Check
  default void check() {
    DiffusionConfig.checkSize(shape());
    int timesteps = timesteps();
    int samplingTimesteps = samplingTimesteps();
    Objective objective = objective();
    BetaSchedule betaSchedule = betaSchedule();
    Module module = module();
    double offsetNoiseStrength = offsetNoiseStrength();
    Check.atLeast("timesteps", timesteps, 1);
    if (samplingTimesteps < 1 || samplingTimesteps > timesteps) {
      throw new IllegalArgumentException("sampling_timesteps = " + samplingTimesteps
          + " must be between 1 and timesteps (" + timesteps + ")");
    }
    Check.nonNegative("ddim_sampling_eta", ddimSamplingEta());
    Check.nonNegative("offset_noise_strength", offsetNoiseStrength);
    Check.positive("min_snr_gamma", minSnrGamma());
    boolean guided = module == Module.GUIDED;
    if (guided && betaSchedule != BetaSchedule.LINEAR && betaSchedule != BetaSchedule.COSINE) {
      throw new IllegalArgumentException("beta_schedule = \"" + ConfigRecords.configName(betaSchedule) + "\" is not allowed for "
          + GUIDED_TYPE + ": expected linear or cosine");
    }
    if (useCfgPlusPlus() && !guided) {
      throw new IllegalArgumentException("use_cfg_plus_plus is an option of " + GUIDED_TYPE + " only");
    }
    Check.nonNegative("vb_loss_weight", vbLossWeight());
    Check.nonNegative("pred_noise_loss_weight", predNoiseLossWeight());
    Check.nonNegative("pred_x_start_loss_weight", predXStartLossWeight());
    if (module == Module.LEARNED && objective != Objective.PRED_NOISE) {
      throw new IllegalArgumentException("objective = \"" + ConfigRecords.configName(objective) + "\" is not allowed for "
          + module.type() + ": its variational bound and its simple loss read the network's first half as noise"
          + " (as the reference's p_mean_variance and p_losses do, whatever the objective): set objective pred_noise");
    }
    if ((module == Module.LEARNED || module == Module.WEIGHTED) && (offsetNoiseStrength > 0 || minSnrLossWeight())) {
      throw new IllegalArgumentException((offsetNoiseStrength > 0 ? "offset_noise_strength = " + offsetNoiseStrength
          : "min_snr_loss_weight = true") + " is not allowed for " + module.type() + ": its own loss has no offset"
          + " noise nor min-SNR weight (the reference accepts and ignores them)");
    }
    // the schedule must be computable from these options
    betaSchedule.betas(timesteps, scheduleFnKwargs());
  }

  @Override
  default String type() {
    return module().type() != null ? module().type() : spatialRank() == 1 ? "GaussianDiffusion1D" : "GaussianDiffusion";
  }

  @Override
  default GaussianDiffusion create(Network network) {
    return new GaussianDiffusion(network, this);
  }

  default boolean isDdimSampling() {
    return samplingTimesteps() < timesteps();
  }

  default NoiseSchedule schedule() {
    return new NoiseSchedule(betaSchedule().betas(timesteps(), scheduleFnKwargs()));
  }

  /** 2-D image diffusion with the reference's defaults. */
  static Builder builder(int height, int width) {
    return builder(Module.PLAIN, height, width);
  }

  /** The classifier_free_guidance module's GaussianDiffusion with its defaults. */
  static Builder guidedBuilder(int height, int width) {
    return builder(Module.GUIDED, height, width);
  }

  /** 1-D sequence diffusion with the reference's defaults. */
  static Builder builder1d(int seqLength) {
    return builder(Module.PLAIN, seqLength);
  }

  /** Diffusion of {@code module} over a network of {@code spatialRank}, of the given size. */
  static Builder builder(Module module, int... size) {
    return new Builder().module(module).shape(Arrays.stream(size).boxed().toList());
  }

  /** @param module the reference's module (the guided one is rank 2) */
  static GaussianDiffusionConfig fromJson(JsonOptions o, int spatialRank, Module module) {
    boolean guided = module == Module.GUIDED;
    Builder b = new Builder().module(module)
        .shape(DiffusionConfig.readSize(o, spatialRank));
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
        b.putScheduleFnKwargs(e.getKey(), v.getAsDouble());
      }
    }
    return ConfigRecords.build(o, b, module.notTaken().toArray(String[]::new));
  }

  @Override
  default List<String> notTaken() {
    return module().notTaken();
  }

  @Override
  default JsonObject toJson() {
    JsonObject j = DiffusionConfig.super.toJson();
    if (module() != Module.GUIDED) {
      JsonObject kw = new JsonObject();
      scheduleFnKwargs().forEach(kw::addProperty);
      j.add("schedule_fn_kwargs", kw);
    }
    return j;
  }
}
