package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input through the command line, as a new user gives it: every case ends with a non-zero
 * exit and one line on stderr that says what is wrong in the user's terms (no stack trace, no
 * Java or TensorFlow class name) and leaves no output behind.
 */
class BadInputTest {

  @TempDir
  static Path dir;

  @BeforeAll
  static void files() throws IOException {
    ModelConfig config = new ModelConfig(
        UnetConfig.builder(4).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(4)).build(),
        GaussianDiffusionConfig.builder(8, 8).timesteps(10).samplingTimesteps(2).build());
    try (DiffusionModel m = DiffusionModel.create(config, 1)) {
      m.save(dir.resolve("model"));
    }
    ModelConfig guided = new ModelConfig(
        io.diffusion4j.models.GuidedUnetConfig.builder(4, 2).dimMults(List.of(1, 2)).channels(1).attnHeads(1).attnDimHead(4).build(),
        GaussianDiffusionConfig.guidedBuilder(8, 8).timesteps(10).samplingTimesteps(2).useCfgPlusPlus(true).build());
    try (DiffusionModel m = DiffusionModel.create(guided, 1)) {
      m.save(dir.resolve("guided"));
    }
    Npy.write(dir.resolve("images.npy"), FloatArray.zeros(2, 8, 8, 1));
    Npy.write(dir.resolve("mask.npy"), FloatArray.zeros(8, 8));
    Path syntax = Files.createDirectories(dir.resolve("syntax"));
    Files.writeString(syntax.resolve("config.json"), "{\"model\": {\"type\": \"Unet\", \"dim\": 4,\n  \"dim_mults\": [1, 2]\n");
    Path unknown = Files.createDirectories(dir.resolve("unknown"));
    Files.writeString(unknown.resolve("config.json"), config.toJsonString().replace("\"dim\": 4", "\"dim\": 4, \"dimm\": 4"));
    Path truncated = Files.createDirectories(dir.resolve("truncated"));
    Files.writeString(truncated.resolve("config.json"), config.toJsonString());
    byte[] weights = Files.readAllBytes(dir.resolve("model/model.safetensors"));
    Files.write(truncated.resolve("model.safetensors"), java.util.Arrays.copyOf(weights, 300));
    float[] noise = new float[2 * 8 * 8];
    noise[77] = Float.NaN;
    Npy.write(dir.resolve("nan.npy"), new FloatArray(new long[] {2, 8, 8, 1}, noise));
    Npy.write(dir.resolve("small.npy"), FloatArray.zeros(2, 4, 4, 1));
    Files.writeString(dir.resolve("text.npy"), "hello");
    Files.writeString(dir.resolve("a-file"), "x");
    String unet = "{\"type\": \"Unet\", \"dim\": 4, \"dim_mults\": [1, 2], \"channels\": 1";
    String continuous = unet + ", \"learned_sinusoidal_cond\": true}";
    for (String[] c : new String[][] {
        {"learned-pred-v", unet + ", \"learned_variance\": true}", "\"type\": \"LearnedGaussianDiffusion\"", ""},
        {"learned-cfg", unet + ", \"learned_variance\": true}",
            "\"type\": \"LearnedGaussianDiffusion\", \"objective\": \"pred_noise\", \"use_cfg_plus_plus\": true", ""},
        {"weighted-out", unet + "}", "\"type\": \"WeightedObjectiveGaussianDiffusion\"", ""},
        {"ct-discrete", unet + "}", "\"type\": \"ContinuousTimeGaussianDiffusion\"", ""},
        {"vparam-schedule", continuous, "\"type\": \"VParamContinuousTimeGaussianDiffusion\", \"noise_schedule\": \"linear\"", ""},
        {"simple-noise-d", continuous, "\"type\": \"simple_diffusion.GaussianDiffusion\", \"noise_d\": 4, \"noise_d_low\": 2", ""},
        {"xm-zero", unet + "}", "\"type\": \"GaussianDiffusion\"", ", \"wrapper\": {\"type\": \"XMWrapper\", \"candidates\": 0}"},
        {"xm-type", unet + "}", "\"type\": \"GaussianDiffusion\"", ", \"wrapper\": {\"type\": \"XM\"}"}}) {
      Files.writeString(dir.resolve(c[0] + ".json"), "{\"model\": " + c[1] + ", \"diffusion\": {" + c[2]
          + ", \"image_size\": 28}" + c[3] + "}");
    }
  }

  /** Arguments, the exit code, and a fragment the message must hold. */
  record Case(List<String> args, int code, String says) {
    @Override
    public String toString() {
      return String.join(" ", args);
    }
  }

  /** train --config with one of the bad family configs written in setUp. */
  private static Case train(String config, String says) {
    return new Case(List.of("train", "--config", dir.resolve(config + ".json").toString(), "--out",
        dir.resolve("t-" + config).toString(), "--steps", "1"), 1, says);
  }

  static Stream<Case> cases() {
    String m = dir.resolve("model").toString();
    String out = dir.resolve("out.npy").toString();
    String g = dir.resolve("guided").toString();
    String images = dir.resolve("images.npy").toString();
    String mask = dir.resolve("mask.npy").toString();
    return Stream.of(
        new Case(List.of("sample", "--model", dir.resolve("none").toString(), "--out", out), 1, "does not exist"),
        new Case(List.of("sample", "--model", dir.resolve("a-file").toString(), "--out", out), 1, "is a file, not a model folder"),
        new Case(List.of("sample", "--model", dir.resolve("syntax").toString(), "--out", out), 1, "not valid JSON: End of input at line 3 column 1"),
        new Case(List.of("sample", "--model", dir.resolve("unknown").toString(), "--out", out), 1, "(line 4, column 21): model: unknown option dimm"),
        new Case(List.of("sample", "--model", dir.resolve("truncated").toString(), "--out", out), 1, "truncated or not a safetensors file"),
        new Case(List.of("sample", "--model", m, "--noise", dir.resolve("nan.npy").toString(), "--out", out), 1, "the value at [1, 1, 5, 0] is NaN"),
        new Case(List.of("sample", "--model", m, "--noise", dir.resolve("small.npy").toString(), "--out", out), 1, "expected [N, 8, 8, 1]"),
        new Case(List.of("sample", "--model", m, "--noise", dir.resolve("text.npy").toString(), "--out", out), 1, "not a .npy file"),
        new Case(List.of("sample", "--model", m, "--num", "0", "--out", out), 2, "--num 0 must be at least 1"),
        new Case(List.of("sample", "--model", m, "--steps", "0", "--out", out), 2, "--steps 0 must be at least 1"),
        new Case(List.of("sample", "--model", m, "--batch-size", "0", "--out", out), 2, "--batch-size 0 must be at least 1"),
        new Case(List.of("sample", "--model", m, "--sampler", "foo", "--out", out), 2, "--sampler foo is not allowed"),
        new Case(List.of("sample", "--model", m, "--sampler", "dpmpp_2s_ancestral", "--eta", "2", "--out",
            out), 2, "--eta 2.0 is not allowed for dpmpp_2s_ancestral: at most 1.0"),
        new Case(List.of("sample", "--model", m, "--schedule", "linear", "--out", out), 2, "--schedule linear is not allowed"),
        new Case(List.of("sample", "--model", m, "--clip-denoised", "maybe", "--out", out), 2,
            "--clip-denoised maybe is not allowed: expected true or false"),
        new Case(List.of("sample", "--model", m, "--num", "5000", "--out", dir.resolve("o.png").toString()), 2, "write .npy instead"),
        new Case(List.of("sample", "--model", m, "--seed", "1", "--class-label", "1", "--out", out), 2, "not class-conditional"),
        new Case(List.of("sample", "--model", m, "--seed", "1", "--out", dir.resolve("a-file/o.npy").toString()), 1, "a file of that name is in the way"),
        new Case(List.of("sample", "--model", m, "--seed", "1", "--cond-scale", "3", "--out", out), 1,
            "classifier-free guidance (cond_scale, rescaled_phi) needs a class-conditional model"),
        new Case(List.of("sample", "--model", g, "--class-label", "0", "--cond-scale", "-1", "--out", out), 2,
            "--cond-scale -1.0 must be >= 0"),
        new Case(List.of("sample", "--model", g, "--class-label", "0", "--rescaled-phi", "2", "--out", out), 2,
            "--rescaled-phi 2.0 must be in [0, 1]"),
        new Case(List.of("sample", "--model", g, "--class-label", "0", "--sampler", "heun", "--out", out), 1,
            "use_cfg_plus_plus is defined for the DDIM-type steps (ddim, ddpm)"),
        new Case(List.of("sample", "--model", m, "--inpaint", images, "--out", out), 1, "--inpaint needs --mask MASK"),
        new Case(List.of("sample", "--model", m, "--inpaint", images, "--mask", mask, "--resample-jump", "0", "--out", out),
            1, "--resample-jump 0 must be at least 1"),
        new Case(List.of("sample", "--model", m, "--inpaint", dir.resolve("small.npy").toString(), "--mask", mask,
            "--out", out), 1, "holds examples of shape [4, 4, 1], the model makes [8, 8, 1]"),
        new Case(List.of("sample", "--model", m, "--inpaint", images, "--mask", dir.resolve("small.npy").toString(),
            "--out", out), 1, "--mask " + dir.resolve("small.npy") + " has shape [2, 4, 4, 1]; expected"),
        new Case(List.of("sample", "--model", m, "--inpaint", images, "--mask", mask, "--sampler", "heun", "--out", out),
            1, "--inpaint samples with RePaint's DDPM steps"),
        new Case(List.of("classify", "--samples", dir.resolve("small.npy").toString()), 1,
            "recognises 28x28 grey images [N, 28, 28, 1], not [2, 4, 4, 1]"),
        new Case(List.of("export", "--model", g, "--out", dir.resolve("saved").toString(), "--rescaled-phi", "3"), 2,
            "--rescaled-phi 3.0 must be in [0, 1]"),
        new Case(List.of("export", "--model", m, "--out", dir.resolve("saved").toString(), "--clip-denoised", "1"), 2,
            "--clip-denoised 1 is not allowed: expected true or false"),
        new Case(List.of("sample", "--model", m, "--device", "tpu", "--out", out), 1, "--device \"tpu\" is not allowed: expected cpu, gpu or gpu:N"),
        new Case(List.of("sample", "--model", m, "--device", "gpu:1", "--out", out), 1, "--device gpu:1: TensorFlow sees no GPU 1 here"),
        new Case(List.of("train", "--device", "gpu", "--out", dir.resolve("t").toString()), 1, "TensorFlow sees no GPU 0 here"),
        new Case(List.of("train", "--amp", "--mixed-precision-type", "fp8", "--out", dir.resolve("t").toString()), 2,
            "--mixed-precision-type \"fp8\" is not allowed: expected fp16 or bf16"),
        new Case(List.of("train", "--lr", "-1", "--out", dir.resolve("t").toString()), 2, "--train-lr -1.0 must be > 0"),
        new Case(List.of("train", "--config", dir.resolve("none.json").toString(), "--out", dir.resolve("t").toString()), 1, "no such file"),
        new Case(List.of("train", "--resume", "--out", dir.resolve("t").toString()), 1, "holds no training run"),
        train("learned-pred-v", "objective = \"pred_v\" is not allowed for LearnedGaussianDiffusion"),
        train("learned-cfg", "unknown option use_cfg_plus_plus"),
        train("weighted-out", "WeightedObjectiveGaussianDiffusion needs out_dim = 2 x channels + 2 (4"),
        train("ct-discrete", "ContinuousTimeGaussianDiffusion feeds the network log-SNR"),
        train("vparam-schedule", "unknown option noise_schedule"),
        train("simple-noise-d", "noise_d = 4.0 and noise_d_low/noise_d_high are not allowed together"),
        train("xm-zero", "wrapper.candidates = 0 must be at least 1"),
        train("xm-type", "wrapper.type = \"XM\" is not allowed: expected XMWrapper"),
        new Case(List.of("export", "--model", m, "--out", dir.resolve("a-file").toString()), 1, "is not a folder"),
        new Case(List.of("export", "--model", m, "--out", dir.resolve("saved").toString(), "--version", "0"), 1, "--version 0 must be a positive integer"),
        new Case(List.of("inspect", m), 1, "not a SavedModel"),
        new Case(List.of("fid"), 2, "Missing required argument"),
        new Case(List.of("bench", "--batch", "0"), 1, "--batch 0 must be at least 1"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void endsWithOneClearLine(Case c) {
    CliRun run = CliRun.of(c.args().toArray(String[]::new));
    assertNotEquals(0, run.code());
    run.assertOneClearLine(c.code(), c.says());
    for (String left : List.of("out.npy", "o.png", "t", "saved")) {
      assertFalse(Files.exists(dir.resolve(left)), left + " was left behind");
    }
  }

  /** TensorFlow's failures are told without their class names. */
  @org.junit.jupiter.api.Test
  void tensorFlowFailuresAreToldInPlainWords() {
    String oom = Main.describe(new org.tensorflow.exceptions.TFResourceExhaustedException(
        "OOM when allocating tensor with shape[512,64,28,28]\n\t [[{{node train/conv}}]]"));
    assertTrue(oom.contains("ran out of memory") && oom.contains("--batch-size"), oom);
    String invalid = Main.describe(new org.tensorflow.exceptions.TFInvalidArgumentException(
        "assertion failed: [Unet input size] [8 6]\n\t [[{{node denoise/Assert}}]]"));
    assertEquals("assertion failed: [Unet input size] [8 6]", invalid, "without the node's name");
    assertFalse(CliRun.CLASS_NAME.matcher(Main.describe(new java.io.EOFException())).find());
    assertFalse(CliRun.CLASS_NAME.matcher(Main.describe(new IllegalStateException(
        "com.google.gson.stream.MalformedJsonException: Unterminated object at line 3 column 5"))).find());
  }

  /** Every command's --help works, and its summary in diffusion4j --help is a whole sentence. */
  @org.junit.jupiter.api.Test
  void everyCommandHasHelpAndASentenceForASummary() {
    for (String command : List.of("train", "sample", "export", "inspect", "bench", "fid")) {
      CliRun help = CliRun.of(command, "--help");
      assertEquals(0, help.code(), command + ": " + help.err());
      String summary = help.out().lines().findFirst().orElse("");
      assertTrue(summary.endsWith(".") || help.out().lines().skip(1).findFirst().orElse("").endsWith("."),
          command + ": " + summary);
    }
    CliRun top = CliRun.of("--help");
    String commands = top.out().substring(top.out().indexOf("Commands:"));
    for (String command : List.of("train", "sample", "export", "inspect", "bench", "fid")) {
      int at = commands.indexOf("\n  " + command + " ");
      String entry = commands.substring(at + 1).split("\n  [a-z]")[0].replaceAll("\\s+", " ").strip();
      assertTrue(entry.endsWith("."), "a whole sentence: " + entry);
    }
  }
}
