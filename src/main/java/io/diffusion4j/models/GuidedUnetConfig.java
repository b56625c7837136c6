package io.diffusion4j.models;

import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.ConfigRecords.Config;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.List;
import org.immutables.value.Value;

/**
 * The options of the reference's {@code classifier_free_guidance.Unet}, with its names and
 * defaults: a 2-D Unet of the earlier layout (the one Unet1D keeps: linear attention of 4 heads
 * of 32 at every stage, strided-conv downsampling) whose blocks are also modulated by a class
 * embedding, with a learned null class for the unconditional evaluations of guidance. Classes are
 * dropped (replaced by the null class) with probability cond_drop_prob in training.
 */
@Value.Immutable
@Config
public interface GuidedUnetConfig extends NetworkConfig {
  String TYPE = "classifier_free_guidance.Unet";

  int dim();
  @Override
  int numClasses();
  @Value.Default default double condDropProb() { return 0.5; }
  /** dim unless given. */
  @Value.Default default int initDim() { return dim(); }
  /** channels, twice that with learned_variance, unless given. */
  @Value.Default default int outDim() { return channels() * (learnedVariance() ? 2 : 1); }
  @Value.Default default List<Integer> dimMults() { return List.of(1, 2, 4, 8); }
  @Override
  @Value.Default default int channels() { return 3; }
  @Value.Default default boolean learnedVariance() { return false; }
  @Value.Default default boolean learnedSinusoidalCond() { return false; }
  @Value.Default default boolean randomFourierFeatures() { return false; }
  @Value.Default default int learnedSinusoidalDim() { return 16; }
  @Value.Default default int attnDimHead() { return 32; }
  @Value.Default default int attnHeads() { return 4; }

  /** The builder, starting from the defaults above. */
  class Builder extends ImmutableGuidedUnetConfig.Builder {}

  @Value.Check
  default void check() {
    Check.atLeast("num_classes", numClasses(), 1);
    Check.within("cond_drop_prob", condDropProb(), 0, 1, false);
    // the rest is checked as the Unet's options
    unet();
  }

  static Builder builder(int dim, int numClasses) {
    return new Builder().dim(dim).numClasses(numClasses);
  }

  @Override
  default String type() {
    return TYPE;
  }

  @Override
  default int outputChannels() {
    return outDim();
  }

  @Override
  default boolean nullClass() {
    return true;
  }

  @Override
  default Network.TimeInput timeInput() {
    return unet().timeInput();
  }

  /** The network without its class conditioning, as a Unet's options (the mid attention's heads from attn_*). */
  default UnetConfig unet() {
    return UnetConfig.builder(dim()).initDim(initDim()).outDim(outDim()).dimMults(dimMults()).channels(channels())
        .learnedVariance(learnedVariance()).learnedSinusoidalCond(learnedSinusoidalCond())
        .randomFourierFeatures(randomFourierFeatures()).learnedSinusoidalDim(learnedSinusoidalDim())
        .attnDimHead(List.of(attnDimHead())).attnHeads(List.of(attnHeads())).build();
  }

  @Override
  default Network create(Parameters parameters) {
    return Unet.create(parameters, this);
  }

  static GuidedUnetConfig fromJson(JsonOptions o) {
    for (String key : List.of("dim", "num_classes")) {
      if (!o.has(key)) {
        throw new IllegalArgumentException("model." + key + " is required for " + TYPE);
      }
    }
    return ConfigRecords.build(o, new Builder());
  }
}
