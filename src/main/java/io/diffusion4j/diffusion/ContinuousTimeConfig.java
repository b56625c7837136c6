package io.diffusion4j.diffusion;

import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Config;
import io.diffusion4j.io.ConfigRecords.Internal;
import io.diffusion4j.io.ConfigRecords.Nullable;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.ParamScope;
import java.util.Arrays;
import java.util.List;
import org.immutables.value.Value;

/**
 * The options of the reference's continuous-time diffusions, one record for the three (they
 * share the maths, {@link ContinuousTimeDiffusion}, and differ in objective, schedule and loss
 * weight): ContinuousTimeGaussianDiffusion (noise prediction on the linear, cosine or learned
 * schedule), VParamContinuousTimeGaussianDiffusion (v on the cosine, unweighted) and
 * simple_diffusion.GaussianDiffusion (v or eps on the shifted or interpolated cosine, min-SNR
 * weighted by default). Each type reads only its own options; its defaults are those below.
 * The reference's types are 2-D; here the size follows the network's rank, as for EDM.
 */
@Value.Immutable
@Config
public interface ContinuousTimeConfig extends DiffusionConfig {
  @Internal
  Kind kind();
  @Value.Default default int channels() { return 3; }
  @Value.Default default Schedule noiseSchedule() { return Schedule.LINEAR; }
  @Value.Default default int learnedScheduleNetHiddenDim() { return 1024; }
  @Value.Default default double learnedNoiseScheduleFracGradient() { return 1; }
  @Value.Default default PredObjective predObjective() { return PredObjective.V; }
  @Nullable Double noiseD();
  @Nullable Double noiseDLow();
  @Nullable Double noiseDHigh();
  @Value.Default default int numSampleSteps() { return 500; }
  @Value.Default default boolean clipSampleDenoised() { return true; }
  @Value.Default default boolean minSnrLossWeight() { return kind() == Kind.SIMPLE; }
  @Value.Default default double minSnrGamma() { return 5; }
  /** null: DDPM, the reference's ancestral p_sample. */
  @Override
  @Nullable String sampler();

  /** The three types, with the options each takes. */
  public enum Kind {
    CONTINUOUS_TIME("ContinuousTimeGaussianDiffusion", "noise_schedule", "learned_schedule_net_hidden_dim",
        "learned_noise_schedule_frac_gradient", "min_snr_loss_weight", "min_snr_gamma"),
    V_PARAM("VParamContinuousTimeGaussianDiffusion"),
    SIMPLE("simple_diffusion.GaussianDiffusion", "pred_objective", "noise_d", "noise_d_low", "noise_d_high",
        "min_snr_loss_weight", "min_snr_gamma");

    private static final List<String> COMMON = List.of("channels", "num_sample_steps", "clip_sample_denoised", "sampler");
    private final String type;
    private final List<String> own;

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
  public enum Schedule {
    LINEAR, COSINE, LEARNED;
  }

  /** simple diffusion's pred_objective: v (Salimans and Ho 2022) or eps. */
  public enum PredObjective {
    V, EPS;
  }

  /** The builder, starting from the defaults above. */
  class Builder extends ImmutableContinuousTimeConfig.Builder {}

  @Value.Check
  default void check() {
    DiffusionConfig.checkSize(shape());
    Check.atLeast("channels", channels(), 1);
    Check.atLeast("learned_schedule_net_hidden_dim", learnedScheduleNetHiddenDim(), 1);
    double frac = learnedNoiseScheduleFracGradient();
    if (!(frac >= 0 && frac <= 1)) {
      throw new IllegalArgumentException("learned_noise_schedule_frac_gradient = " + frac + " must be between 0 and 1");
    }
    Check.atLeast("num_sample_steps", numSampleSteps(), 1);
    Check.positive("min_snr_gamma", minSnrGamma());
    Double noiseD = noiseD();
    Double noiseDLow = noiseDLow();
    Double noiseDHigh = noiseDHigh();
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
  default String type() {
    return kind().type();
  }

  /** What the network predicts. */
  default PredObjective objective() {
    return switch (kind()) {
      case CONTINUOUS_TIME -> PredObjective.EPS;
      case V_PARAM -> PredObjective.V;
      case SIMPLE -> predObjective();
    };
  }

  /**
   * The schedule; a learned one creates its parameters under {@code scope}. simple diffusion's
   * image_d is the image's height (the reference takes square images).
   */
  default LogSnrSchedule schedule(ParamScope scope) {
    return switch (kind()) {
      case CONTINUOUS_TIME -> switch (noiseSchedule()) {
        case LINEAR -> LogSnrSchedule.linear();
        case COSINE -> LogSnrSchedule.alphaCosine();
        case LEARNED -> new LearnedNoiseSchedule(scope, learnedScheduleNetHiddenDim(),
            learnedNoiseScheduleFracGradient());
      };
      case V_PARAM -> LogSnrSchedule.alphaCosine();
      case SIMPLE -> {
        LogSnrSchedule cosine = LogSnrSchedule.cosine(-15, 15);
        double imageD = shape().get(0);
        if (noiseD() != null) {
          yield cosine.shifted(2 * Math.log(noiseD() / imageD));
        }
        if (noiseDLow() != null) {
          yield LogSnrSchedule.interpolated(cosine.shifted(2 * Math.log(noiseDLow() / imageD)),
              cosine.shifted(2 * Math.log(noiseDHigh() / imageD)));
        }
        yield cosine;
      }
    };
  }

  @Override
  default ContinuousTimeDiffusion create(Network network) {
    return new ContinuousTimeDiffusion(network, this);
  }

  static Builder builder(Kind kind, int... size) {
    return new Builder().kind(kind).shape(Arrays.stream(size).boxed().toList());
  }

  /** Reads a section of type {@code kind} for a network of {@code spatialRank} with {@code channels} (the default). */
  static ContinuousTimeConfig fromJson(JsonOptions o, Kind kind, int spatialRank, int networkChannels) {
    return ConfigRecords.build(o, new Builder().kind(kind).shape(DiffusionConfig.readSize(o, spatialRank))
        .channels(networkChannels), notTaken(kind).toArray(String[]::new));
  }

  @Override
  default List<String> notTaken() {
    return notTaken(kind());
  }

  private static List<String> notTaken(Kind kind) {
    return ConfigRecords.options(ContinuousTimeConfig.class).stream().map(ConfigRecords.Declared::key)
        .filter(k -> !kind.takes(k)).toList();
  }
}
