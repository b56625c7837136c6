package io.diffusion4j.diffusion;

import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.models.Network;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The options of the reference's continuous-time diffusions, one record for the three (they
 * share the maths, {@link ContinuousTimeDiffusion}, and differ in objective, schedule and loss
 * weight): ContinuousTimeGaussianDiffusion (noise prediction on the linear, cosine or learned
 * schedule), VParamContinuousTimeGaussianDiffusion (v on the cosine, unweighted) and
 * simple_diffusion.GaussianDiffusion (v or eps on the shifted or interpolated cosine, min-SNR
 * weighted by default). Each type reads only its own options; its defaults are the builder's.
 * The reference's types are 2-D; here the size follows the network's rank, as for EDM.
 */
public record ContinuousTimeConfig(
    @Internal Kind kind,
    @Internal int spatialRank,
    @Internal List<Integer> shape,
    int channels,
    Schedule noiseSchedule,
    int learnedScheduleNetHiddenDim,
    double learnedNoiseScheduleFracGradient,
    PredObjective predObjective,
    Double noiseD,
    Double noiseDLow,
    Double noiseDHigh,
    int numSampleSteps,
    boolean clipSampleDenoised,
    boolean minSnrLossWeight,
    double minSnrGamma,
    String sampler) implements DiffusionConfig {

  /** The three types, with the options each takes. */
  public enum Kind {
    CONTINUOUS_TIME("ContinuousTimeGaussianDiffusion", "noise_schedule", "learned_schedule_net_hidden_dim",
        "learned_noise_schedule_frac_gradient", "min_snr_loss_weight", "min_snr_gamma"),
    V_PARAM("VParamContinuousTimeGaussianDiffusion"),
    SIMPLE("simple_diffusion.GaussianDiffusion", "pred_objective", "noise_d", "noise_d_low", "noise_d_high",
        "min_snr_loss_weight", "min_snr_gamma");

    private static final List<String> COMMON = List.of("channels", "num_sample_steps", "clip_sample_denoised", "sampler");
    final String type;
    final List<String> own;

    Kind(String type, String... own) {
      this.type = type;
      this.own = List.of(own);
    }

    public String type() {
      return type;
    }

    public static Kind ofType(String type) {
      return Arrays.stream(values()).filter(k -> k.type.equals(type)).findFirst().orElse(null);
    }

    boolean takes(String key) {
      return COMMON.contains(key) || own.contains(key);
    }
  }

  /** ContinuousTimeGaussianDiffusion's noise_schedule. */
  public enum Schedule implements ConfigRecords.Choice {
    LINEAR, COSINE, LEARNED;

    @Override
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** simple diffusion's pred_objective: v (Salimans and Ho 2022) or eps. */
  public enum PredObjective implements ConfigRecords.Choice {
    V, EPS;

    @Override
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public ContinuousTimeConfig {
    shape = DiffusionConfig.checkSize(shape);
    Check.atLeast("channels", channels, 1);
    Check.atLeast("learned_schedule_net_hidden_dim", learnedScheduleNetHiddenDim, 1);
    if (!(learnedNoiseScheduleFracGradient >= 0 && learnedNoiseScheduleFracGradient <= 1)) {
      throw new IllegalArgumentException("learned_noise_schedule_frac_gradient = " + learnedNoiseScheduleFracGradient
          + " must be between 0 and 1");
    }
    Check.atLeast("num_sample_steps", numSampleSteps, 1);
    Check.positive("min_snr_gamma", minSnrGamma);
    for (Double d : Arrays.asList(noiseD, noiseDLow, noiseDHigh)) {
      if (d != null) {
        Check.positive("noise_d", d);
      }
    }
    if (noiseD != null && (noiseDLow != null || noiseDHigh != null)) {
      throw new IllegalArgumentException("noise_d = " + noiseD + " and noise_d_low/noise_d_high are not allowed together:"
          + " set noise_d for the shifted schedule, or noise_d_low and noise_d_high for the interpolated one");
    }
    if ((noiseDLow == null) != (noiseDHigh == null)) {
      throw new IllegalArgumentException("noise_d_low = " + noiseDLow + ", noise_d_high = " + noiseDHigh
          + ": the interpolated schedule needs both");
    }
  }

  @Override
  public String type() {
    return kind.type;
  }

  @Override
  public int[] size() {
    return shape.stream().mapToInt(Integer::intValue).toArray();
  }

  /** What the network predicts. */
  public PredObjective objective() {
    return switch (kind) {
      case CONTINUOUS_TIME -> PredObjective.EPS;
      case V_PARAM -> PredObjective.V;
      case SIMPLE -> predObjective;
    };
  }

  /**
   * The schedule; a learned one creates its parameters under {@code scope}. simple diffusion's
   * image_d is the image's height (the reference takes square images).
   */
  LogSnrSchedule schedule(io.diffusion4j.nn.ParamScope scope) {
    return switch (kind) {
      case CONTINUOUS_TIME -> switch (noiseSchedule) {
        case LINEAR -> LogSnrSchedule.linear();
        case COSINE -> LogSnrSchedule.alphaCosine();
        case LEARNED -> new LearnedNoiseSchedule(scope, learnedScheduleNetHiddenDim, learnedNoiseScheduleFracGradient);
      };
      case V_PARAM -> LogSnrSchedule.alphaCosine();
      case SIMPLE -> {
        LogSnrSchedule cosine = LogSnrSchedule.cosine(-15, 15);
        double imageD = shape.get(0);
        if (noiseD != null) {
          yield cosine.shifted(2 * Math.log(noiseD / imageD));
        }
        if (noiseDLow != null) {
          yield LogSnrSchedule.interpolated(cosine.shifted(2 * Math.log(noiseDLow / imageD)),
              cosine.shifted(2 * Math.log(noiseDHigh / imageD)));
        }
        yield cosine;
      }
    };
  }

  @Override
  public ContinuousTimeDiffusion create(Network network) {
    return new ContinuousTimeDiffusion(network, this);
  }

  public static Builder builder(Kind kind, int... size) {
    return new Builder(kind, size);
  }

  /** Reads a section of type {@code kind} for a network of {@code spatialRank} with {@code channels} (the default). */
  public static ContinuousTimeConfig fromJson(JsonOptions o, Kind kind, int spatialRank, int networkChannels) {
    Builder b = builder(kind, DiffusionConfig.readSize(o, spatialRank).stream().mapToInt(Integer::intValue).toArray());
    b.channels = networkChannels;
    ConfigRecords.read(o, b, notTaken(kind));
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("diffusion: " + e.getMessage(), e);
    }
  }

  private static String[] notTaken(Kind kind) {
    List<String> out = new ArrayList<>();
    for (ConfigRecords.Declared d : ConfigRecords.options(Builder.class)) {
      if (!kind.takes(d.key())) {
        out.add(d.key());
      }
    }
    return out.toArray(new String[0]);
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", kind.type);
    DiffusionConfig.writeSize(j, shape);
    ConfigRecords.write(this, Builder.class).entrySet().stream().filter(e -> kind.takes(e.getKey()))
        .forEach(e -> j.add(e.getKey(), e.getValue()));
    return j;
  }

  /** The options with the reference's defaults; every setter takes the option of the same (camelCase) name. */
  public static final class Builder {
    private final transient Kind kind;
    private final transient int[] size;
    private int channels = 3;
    private Schedule noiseSchedule = Schedule.LINEAR;
    private int learnedScheduleNetHiddenDim = 1024;
    private double learnedNoiseScheduleFracGradient = 1;
    private PredObjective predObjective = PredObjective.V;
    private Double noiseD;
    private Double noiseDLow;
    private Double noiseDHigh;
    private int numSampleSteps = 500;
    private boolean clipSampleDenoised = true;
    private boolean minSnrLossWeight;
    private double minSnrGamma = 5;
    /** null: DDPM, the reference's ancestral p_sample. */
    private String sampler;

    private Builder(Kind kind, int[] size) {
      this.kind = kind;
      this.size = size.clone();
      this.minSnrLossWeight = kind == Kind.SIMPLE;
    }

    public Builder channels(int v) { channels = v; return this; }
    public Builder noiseSchedule(Schedule v) { noiseSchedule = v; return this; }
    public Builder learnedScheduleNetHiddenDim(int v) { learnedScheduleNetHiddenDim = v; return this; }
    public Builder learnedNoiseScheduleFracGradient(double v) { learnedNoiseScheduleFracGradient = v; return this; }
    public Builder predObjective(PredObjective v) { predObjective = v; return this; }
    public Builder noiseD(Double v) { noiseD = v; return this; }
    public Builder noiseDLow(Double v) { noiseDLow = v; return this; }
    public Builder noiseDHigh(Double v) { noiseDHigh = v; return this; }
    public Builder numSampleSteps(int v) { numSampleSteps = v; return this; }
    public Builder clipSampleDenoised(boolean v) { clipSampleDenoised = v; return this; }
    public Builder minSnrLossWeight(boolean v) { minSnrLossWeight = v; return this; }
    public Builder minSnrGamma(double v) { minSnrGamma = v; return this; }
    public Builder sampler(String v) { sampler = v; return this; }

    public ContinuousTimeConfig build() {
      return new ContinuousTimeConfig(kind, size.length, Arrays.stream(size).boxed().toList(), channels,
          noiseSchedule, learnedScheduleNetHiddenDim, learnedNoiseScheduleFracGradient, predObjective, noiseD,
          noiseDLow, noiseDHigh, numSampleSteps, clipSampleDenoised, minSnrLossWeight, minSnrGamma, sampler);
    }
  }
}
