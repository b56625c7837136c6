package io.diffusion4j.models;

import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.ConfigRecords;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.Parameters;
import java.util.List;

/**
 * The options of the reference's {@code classifier_free_guidance.Unet}, with its names and
 * defaults: a 2-D Unet of the earlier layout (the one Unet1D keeps: linear attention of 4 heads
 * of 32 at every stage, strided-conv downsampling) whose blocks are also modulated by a class
 * embedding, with a learned null class for the unconditional evaluations of guidance. Classes are
 * dropped (replaced by the null class) with probability cond_drop_prob in training.
 */
public record GuidedUnetConfig(
    int dim,
    int numClasses,
    double condDropProb,
    int initDim,
    int outDim,
    List<Integer> dimMults,
    int channels,
    boolean learnedVariance,
    boolean learnedSinusoidalCond,
    boolean randomFourierFeatures,
    int learnedSinusoidalDim,
    int attnDimHead,
    int attnHeads) implements NetworkConfig {

  public static final String TYPE = "classifier_free_guidance.Unet";

  public GuidedUnetConfig {
    Check.atLeast("num_classes", numClasses, 1);
    Check.within("cond_drop_prob", condDropProb, 0, 1, false);
    dimMults = List.copyOf(dimMults);
    // the rest is checked as the Unet's options
    unet(dim, initDim, outDim, dimMults, channels, learnedVariance, learnedSinusoidalCond, randomFourierFeatures,
        learnedSinusoidalDim, attnDimHead, attnHeads);
  }

  public static Builder builder(int dim, int numClasses) {
    return new Builder().dim(dim).numClasses(numClasses);
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public int spatialRank() {
    return 2;
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  /** The network without its class conditioning, as a Unet's options (the mid attention's heads from attn_*). */
  UnetConfig unet() {
    return unet(dim, initDim, outDim, dimMults, channels, learnedVariance, learnedSinusoidalCond, randomFourierFeatures,
        learnedSinusoidalDim, attnDimHead, attnHeads);
  }

  private static UnetConfig unet(int dim, int initDim, int outDim, List<Integer> dimMults, int channels,
      boolean learnedVariance, boolean learnedSinusoidalCond, boolean randomFourierFeatures, int learnedSinusoidalDim,
      int attnDimHead, int attnHeads) {
    return UnetConfig.builder(dim).initDim(initDim).outDim(outDim)
        .dimMults(dimMults.stream().mapToInt(Integer::intValue).toArray()).channels(channels)
        .learnedVariance(learnedVariance).learnedSinusoidalCond(learnedSinusoidalCond)
        .randomFourierFeatures(randomFourierFeatures).learnedSinusoidalDim(learnedSinusoidalDim)
        .attnDimHead(attnDimHead).attnHeads(attnHeads).build();
  }

  @Override
  public Network create(Parameters parameters) {
    return Unet.create(parameters, this);
  }

  public static GuidedUnetConfig fromJson(JsonOptions o) {
    for (String key : List.of("dim", "num_classes")) {
      if (!o.has(key)) {
        throw new IllegalArgumentException("model." + key + " is required for " + TYPE);
      }
    }
    Builder b = ConfigRecords.read(o, new Builder());
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("model: " + e.getMessage(), e);
    }
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", TYPE);
    ConfigRecords.write(this, Builder.class).entrySet().forEach(e -> j.add(e.getKey(), e.getValue()));
    return j;
  }

  /** The options with the reference's defaults; every setter takes the option of the same (camelCase) name. */
  public static final class Builder {
    private int dim;
    private int numClasses;
    private double condDropProb = 0.5;
    /** null: dim. */
    private Integer initDim;
    /** null: channels, twice that with learned_variance. */
    private Integer outDim;
    private List<Integer> dimMults = List.of(1, 2, 4, 8);
    private int channels = 3;
    private boolean learnedVariance;
    private boolean learnedSinusoidalCond;
    private boolean randomFourierFeatures;
    private int learnedSinusoidalDim = 16;
    private int attnDimHead = 32;
    private int attnHeads = 4;

    private Builder() {}

    public Builder dim(int v) { dim = v; return this; }
    public Builder numClasses(int v) { numClasses = v; return this; }
    public Builder condDropProb(double v) { condDropProb = v; return this; }
    public Builder initDim(int v) { initDim = v; return this; }
    public Builder outDim(int v) { outDim = v; return this; }
    public Builder dimMults(int... v) { dimMults = UnetConfig.boxed(v); return this; }
    public Builder channels(int v) { channels = v; return this; }
    public Builder learnedVariance(boolean v) { learnedVariance = v; return this; }
    public Builder learnedSinusoidalCond(boolean v) { learnedSinusoidalCond = v; return this; }
    public Builder randomFourierFeatures(boolean v) { randomFourierFeatures = v; return this; }
    public Builder learnedSinusoidalDim(int v) { learnedSinusoidalDim = v; return this; }
    public Builder attnDimHead(int v) { attnDimHead = v; return this; }
    public Builder attnHeads(int v) { attnHeads = v; return this; }

    public GuidedUnetConfig build() {
      return new GuidedUnetConfig(dim, numClasses, condDropProb, initDim == null ? dim : initDim,
          outDim == null ? channels * (learnedVariance ? 2 : 1) : outDim, dimMults, channels, learnedVariance,
          learnedSinusoidalCond, randomFourierFeatures, learnedSinusoidalDim, attnDimHead, attnHeads);
    }
  }
}
