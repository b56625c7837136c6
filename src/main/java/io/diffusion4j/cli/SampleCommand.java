package io.diffusion4j.cli;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.ImageGrid;
import io.diffusion4j.io.Npy;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.sampling.DiffusionSampler;
import io.diffusion4j.sampling.Sampler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sample}: draws samples from a model folder into .npy or a PNG grid. */
@Command(name = "sample", mixinStandardHelpOptions = true,
    description = "Sample from a model folder and write the samples as .npy (channels-last float32"
        + " in [0, 1]) or as a .png grid.")
final class SampleCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "model folder (config.json and weights)")
  Path model;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "output file: .npy or .png")
  Path out;

  @Option(names = "--num", paramLabel = "N", description = "number of samples (default 16, or as many as --noise holds)")
  Integer num;

  @Option(names = "--seed", paramLabel = "S", description = "random seed (default: a random one, printed)")
  Long seed;

  @Option(names = "--noise", paramLabel = "FILE.npy",
      description = "the start noise, standard normal, channels-last [N, ...] (instead of drawing it from --seed)")
  Path noise;

  @Option(names = "--sampler", paramLabel = "NAME",
      description = "ddpm or ddim for Gaussian diffusion (default: ddim when sampling_timesteps < timesteps),"
          + " heun, dpmpp or euler for ElucidatedDiffusion (default: heun)")
  String sampler;

  @Option(names = "--steps", paramLabel = "K",
      description = "sampling steps of ddim, heun, dpmpp and euler (default: sampling_timesteps or num_sample_steps)")
  Integer steps;

  @Option(names = "--class-label", paramLabel = "K[,K...]", split = ",",
      description = "class-conditional models: one label for all samples, or one per sample")
  long[] classLabels;

  @Option(names = "--eta", paramLabel = "E", description = "DDIM eta: 0 is deterministic (default: the config's ddim_sampling_eta)")
  Double eta;

  @Option(names = "--weights", paramLabel = "ema|model",
      description = "which weights to use (default: ema when the folder has them)")
  String weights;

  @Override
  public Integer call() throws Exception {
    String ext = extension(out);
    if (!ext.equals("npy") && !ext.equals("png")) {
      throw new ParameterException(spec.commandLine(), "--out " + out + " must end in .npy or .png");
    }
    Sampler kind = sampler == null ? null : Sampler.parse(sampler);
    DiffusionModel.Weights which = weights == null ? DiffusionModel.Weights.PREFER_EMA : DiffusionModel.Weights.parse(weights);
    if (num != null && num < 1) {
      throw new ParameterException(spec.commandLine(), "--num " + num + " must be at least 1");
    }
    if (eta != null && !(eta >= 0)) {
      throw new ParameterException(spec.commandLine(), "--eta " + eta + " must be >= 0");
    }
    try (DiffusionModel m = DiffusionModel.load(model, which)) {
      DiffusionSampler s = m.sampler();
      if (ext.equals("png") && (m.network().spatialRank() != 2 || !java.util.Set.of(1, 3, 4).contains(m.network().channels()))) {
        throw new IllegalArgumentException("--out " + out + ": PNG grids need images with 1, 3 or 4 channels; write .npy instead");
      }
      long runSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong();
      if (seed == null && noise == null) {
        spec.commandLine().getErr().println("diffusion4j: using --seed " + runSeed);
      }
      FloatArray start;
      if (noise != null) {
        start = Npy.read(noise);
        if (num != null && start.shape().length > 0 && start.shape()[0] != num) {
          throw new IllegalArgumentException("--noise " + noise + " holds " + start.shape()[0] + " samples but --num is " + num);
        }
      } else {
        start = s.initialNoise(num == null ? 16 : num, runSeed);
      }
      Sampler chosen = kind != null ? kind : s.defaultSampler();
      int k = steps != null ? steps : s.defaultSteps();
      double e = eta != null ? eta : m.config().diffusion() instanceof io.diffusion4j.diffusion.GaussianDiffusionConfig g
          ? g.ddimSamplingEta() : 0;
      FloatArray samples;
      try {
        samples = s.sample(chosen, start, runSeed, k, e, labelsFor((int) start.shape()[0], m.network().numClasses()), null);
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException((noise != null && ex.getMessage().startsWith("noise") ? "--" : "") + ex.getMessage(), ex);
      }
      if (out.toAbsolutePath().getParent() != null) {
        Files.createDirectories(out.toAbsolutePath().getParent());
      }
      if (ext.equals("npy")) {
        Npy.write(out, samples);
      } else {
        ImageGrid.writePng(out, samples);
      }
      spec.commandLine().getOut().println("wrote " + samples.shape()[0] + " samples (" + chosen.cliName()
          + (chosen == Sampler.DDPM ? "" : ", " + k + " steps") + ") to " + out);
    }
    return 0;
  }

  /** --class-label as one label per sample: a single label repeats; none is allowed only for unconditional models. */
  private long[] labelsFor(int num, int classes) {
    if (classLabels == null) {
      if (classes > 0) {
        throw new ParameterException(spec.commandLine(), "the model is class-conditional (num_classes = " + classes
            + "): give --class-label K (0.." + (classes - 1) + ") or one label per sample");
      }
      return null;
    }
    if (classes == 0) {
      throw new ParameterException(spec.commandLine(), "--class-label given, but the model is not class-conditional");
    }
    if (classLabels.length == 1) {
      long[] all = new long[num];
      java.util.Arrays.fill(all, classLabels[0]);
      return all;
    }
    if (classLabels.length != num) {
      throw new ParameterException(spec.commandLine(), "--class-label lists " + classLabels.length
          + " labels for " + num + " samples: give one, or one per sample");
    }
    return classLabels;
  }

  private static String extension(Path p) {
    String name = p.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
  }
}
