package io.diffusion4j.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Close;
import io.diffusion4j.diffusion.ElucidatedDiffusionConfig;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.GuidedUnetConfig;
import io.diffusion4j.models.KarrasUnetConfig;
import io.diffusion4j.models.NetworkConfig;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.runtime.Execution;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

class SavedModelExportTest {
  @TempDir
  Path dir;

  private Path modelFolder(ModelConfig config) throws IOException {
    Path folder = Files.createTempDirectory(dir, "model");
    try (DiffusionModel m = DiffusionModel.create(config, 4)) {
      m.save(folder);
    }
    return folder;
  }

  static final ModelConfig UNET = new ModelConfig(
      UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(3).attnHeads(List.of(1)).attnDimHead(List.of(8)).build(),
      GaussianDiffusionConfig.builder(8, 12).timesteps(100).build());

  static final ModelConfig BARE_UNET = new ModelConfig(
      UnetConfig.builder(8).dimMults(List.of(1, 2, 2)).channels(3).attnHeads(List.of(1)).attnDimHead(List.of(8)).build(), null);
  static final ModelConfig BARE_UNET1D = new ModelConfig(
      UnetConfig.builder1d(8).dimMults(List.of(1, 2)).channels(2).build(), null);

  /**
   * A fresh JVM with only TensorFlow Java on the job gives the model folder's outputs; the Unets,
   * fully convolutional, at two sizes each, with or without a diffusion part.
   */
  @Test
  void denoiseRunsInAPlainTensorFlowJvm() throws Exception {
    record Case(String name, ModelConfig config, long[][] shapes) {}
    List<Case> cases = List.of(
        new Case("unet", UNET, new long[][] {{2, 8, 12, 3}, {1, 16, 4, 3}}),
        new Case("bare-unet", BARE_UNET, new long[][] {{2, 8, 12, 3}, {1, 20, 4, 3}}),
        new Case("bare-unet1d", BARE_UNET1D, new long[][] {{2, 16, 2}, {3, 6, 2}}));
    for (Case c : cases) {
      Path folder = modelFolder(c.config());
      Path saved = SavedModelExport.export(folder, dir.resolve("saved/" + c.name()), null);
      assertEquals(dir.resolve("saved/" + c.name() + "/1"), saved);
      List<String> command = new java.util.ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), PlainTensorFlowDenoise.class.getName(),
          saved.toString(), dir.resolve(c.name()).toString()));
      for (long[] shape : c.shapes()) {
        command.add(PlainTensorFlowDenoise.format(shape));
      }
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve("jvm.log").toFile()).start();
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the plain JVM did not finish");
      assertEquals(0, p.exitValue(), Files.readString(dir.resolve("jvm.log")));
      try (DiffusionModel m = DiffusionModel.load(folder, DiffusionModel.Weights.PREFER_EMA)) {
        for (int k = 0; k < c.shapes().length; k++) {
          long[] shape = c.shapes()[k];
          FloatArray expected = m.forward(new FloatArray(shape, PlainTensorFlowDenoise.input(shape)),
              PlainTensorFlowDenoise.times((int) shape[0]), null);
          float[] fromSavedModel = new float[expected.data().length];
          try (DataInputStream in = new DataInputStream(Files.newInputStream(PlainTensorFlowDenoise.output(
              dir.resolve(c.name()).toString(), k)))) {
            for (int i = 0; i < fromSavedModel.length; i++) {
              fromSavedModel[i] = in.readFloat();
            }
          }
          Close.assertClose(expected.data(), fromSavedModel, 1e-5);
        }
      }
    }
  }

  /** A size the Unet's downsampling does not divide is refused when denoise runs, saying why. */
  @Test
  void denoiseChecksTheSizeWhenItRuns() throws IOException {
    Path saved = SavedModelExport.export(modelFolder(BARE_UNET), dir.resolve("saved/size"), null);
    try (SavedModelBundle b = SavedModelBundle.load(saved.toString(), "serve");
        TFloat32 x = TFloat32.tensorOf(Shape.of(1, 8, 6, 3)); TFloat32 t = TFloat32.vectorOf(5f)) {
      var e = assertThrows(RuntimeException.class, () -> b.function("denoise").call(Map.of("x", x, "time", t)).close());
      assertTrue(e.getMessage().contains("Unet input size") && e.getMessage().contains("[8 6]")
          && e.getMessage().contains("must be divisible by 4"), e.getMessage());
    }
  }

  /**
   * A SavedModel samples through its denoise signature with every Java sampler as the model folder
   * it came from does, with self-conditioning, class labels and a guided model's default
   * classifier-free guidance (its denoise signature takes the null class -1).
   */
  @Test
  void savedModelSamplesThroughDenoiseLikeItsModelFolder() throws IOException {
    ModelConfig selfCond = new ModelConfig(UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(1).selfCondition(true)
        .learnedSinusoidalCond(true).attnHeads(List.of(1)).attnDimHead(List.of(8)).build(),
        ElucidatedDiffusionConfig.builder(8, 8).channels(1).numSampleSteps(3).build());
    ModelConfig classes = new ModelConfig(KarrasUnetConfig.builder(8).dim(8).dimMax(16).channels(1).numClasses(3)
        .numDownsamples(1).numBlocksPerStage(List.of(1)).attnRes(List.of(4)).build(),
        ElucidatedDiffusionConfig.builder(8, 8).channels(1).numSampleSteps(3).build());
    ModelConfig guided = new ModelConfig(GuidedUnetConfig.builder(8, 3).dimMults(List.of(1, 2)).channels(1)
        .attnHeads(1).attnDimHead(8).build(), GaussianDiffusionConfig.guidedBuilder(8, 8).timesteps(20).build());
    record Case(String name, ModelConfig config, String sampler, long[] labels) {}
    List<Case> cases = List.of(new Case("unet", UNET, "ddpm", null),
        new Case("unet", UNET, "ddim", null),
        new Case("selfcond", selfCond, "heun", null),
        new Case("selfcond", selfCond, "dpmpp_2m", null),
        new Case("selfcond", selfCond, "unipc", null),
        new Case("classes", classes, "euler", new long[] {2, 1}),
        new Case("classes", classes, "dpmpp_2s_ancestral", new long[] {0, 2}),
        new Case("guided", guided, "ddim", new long[] {1, 2}));
    Map<String, Path> folders = new java.util.HashMap<>();
    for (Case c : cases) {
      Path folder = folders.computeIfAbsent(c.name(), k -> {
        try {
          return modelFolder(c.config());
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Path saved = dir.resolve("saved/" + c.name() + "/1");
      if (!Files.exists(saved)) {
        SavedModelExport.export(folder, saved.getParent(), 1L);
      }
      float[] expected;
      try (DiffusionModel m = DiffusionModel.load(folder, DiffusionModel.Weights.PREFER_EMA)) {
        expected = m.sampler().sample(settings(m, c.sampler()), m.sampler().initialNoise(2, 3), c.labels()).data();
      }
      try (DiffusionModel m = ModelLoader.load(saved, DiffusionModel.Weights.PREFER_EMA, Execution.CPU)) {
        float[] actual = m.sampler().sample(settings(m, c.sampler()), m.sampler().initialNoise(2, 3), c.labels()).data();
        // float32 round-off over up to 100 steps: denoise takes any size, and TensorFlow may pick other kernels
        Close.assertClose(expected, actual, 1e-4);
        assertThrows(IllegalStateException.class, m::weights, "the weights stay in the SavedModel");
      }
    }
  }

  private static io.diffusion4j.sampling.Settings settings(DiffusionModel m, String solver) {
    return io.diffusion4j.sampling.Settings.of(m.sampler().denoiser(), io.diffusion4j.sampling.Solvers.named(solver), 3,
        null, 0.5, null, 3);
  }

  /**
   * serving_default runs the whole sampler in the graph and gives the images of
   * {@code diffusion4j sample} for the same seed, at the default step count (5) and another.
   */
  @Test
  void servingDefaultGivesTheImagesOfTheSampleCommand() throws IOException {
    ModelConfig ddim = new ModelConfig(UNET.network(),
        GaussianDiffusionConfig.builder(8, 12).timesteps(100).samplingTimesteps(5).ddimSamplingEta(0.3).build());
    Path folder = modelFolder(ddim);
    Path saved = SavedModelExport.export(folder, dir.resolve("saved/ddim"), null);
    SignatureDef serving = SavedModelInfo.read(saved).getMetaGraphs(0).getSignatureDefOrThrow("serving_default");
    assertEquals("tensorflow/serving/predict", serving.getMethodName());
    assertEquals(List.of("num", "seed", "steps"), serving.getInputsMap().keySet().stream().sorted().toList());
    assertEquals(List.of("images"), List.copyOf(serving.getOutputsMap().keySet()));
    assertServingEqualsSample(folder, saved, List.of(), new Integer[] {null, 3}, 5);
  }

  /**
   * {@code export --sampler NAME --steps K --schedule S} bakes that solver into serving_default:
   * at any step count up to K it gives the images of {@code sample} with the same options.
   */
  @Test
  void servingDefaultRunsTheSolverItWasExportedWith() throws IOException {
    Path folder = modelFolder(UNET);
    for (List<String> solver : List.of(List.of("--sampler", "dpmpp_2m"),
        List.of("--sampler", "unipc", "--schedule", "karras"), List.of("--sampler", "heun", "--schedule", "exponential"))) {
      Path saved = dir.resolve("saved/" + solver.get(1));
      List<String> args = new java.util.ArrayList<>(List.of("export", "--model", folder.toString(), "--out",
          saved.toString(), "--steps", "6"));
      args.addAll(solver);
      java.io.StringWriter err = new java.io.StringWriter();
      assertEquals(0, io.diffusion4j.cli.Main.run(args.toArray(String[]::new),
          new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err, true)), err.toString());
      assertServingEqualsSample(folder, saved.resolve("1"), solver, new Integer[] {6, 4}, -1);
    }
  }

  /**
   * A guided model's serving_default takes class_labels and cond_scale, and gives the images of
   * {@code sample --class-label --cond-scale} (which at cond_scale 1 evaluates the network once
   * per step, where the graph evaluates both halves).
   */
  @Test
  void servingDefaultOfAGuidedModelTakesClassesAndAScale() throws IOException {
    ModelConfig guided = new ModelConfig(
        io.diffusion4j.models.GuidedUnetConfig.builder(8, 3).dimMults(List.of(1, 2)).channels(1).attnHeads(1).attnDimHead(8)
            .build(),
        GaussianDiffusionConfig.guidedBuilder(8, 8).timesteps(20).samplingTimesteps(4).build());
    Path folder = modelFolder(guided);
    Path saved = SavedModelExport.export(folder, dir.resolve("saved/guided"), null);
    SignatureDef serving = SavedModelInfo.read(saved).getMetaGraphs(0).getSignatureDefOrThrow("serving_default");
    assertEquals(List.of("class_labels", "cond_scale", "num", "seed", "steps"),
        serving.getInputsMap().keySet().stream().sorted().toList());
    try (SavedModelBundle b = SavedModelBundle.load(saved.toString(), "serve")) {
      for (float scale : new float[] {1, 3}) {
        Path npy = dir.resolve("guided-" + scale + ".npy");
        java.io.StringWriter err = new java.io.StringWriter();
        assertEquals(0, io.diffusion4j.cli.Main.run(new String[] {"sample", "--model", folder.toString(), "--seed", "5",
            "--num", "3", "--class-label", "2,0,1", "--cond-scale", Float.toString(scale), "--out", npy.toString()},
            new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err, true)), err.toString());
        try (TInt64 seed = TInt64.scalarOf(5); TInt32 num = TInt32.scalarOf(3); TInt32 k = TInt32.scalarOf(4);
            TInt64 labels = TInt64.vectorOf(2, 0, 1); TFloat32 condScale = TFloat32.scalarOf(scale);
            Result r = b.function("serving_default").call(Map.of("seed", seed, "num", num, "steps", k,
                "class_labels", labels, "cond_scale", condScale))) {
          FloatArray images = io.diffusion4j.nn.Tensors.toArray((TFloat32) r.get("images").orElseThrow());
          Close.assertClose(io.diffusion4j.io.Npy.read(npy).data(), images.data(), 1e-3);
        }
      }
    }
  }

  /**
   * The rest of the family exports: a learned noise schedule (its levels read from the weights
   * when exported) and a learned variance (DDPM's noise from the network) sample in the graph as
   * {@code sample} does; so does EDM's DPM-Solver++, unclamped by default as the reference's
   * sample_using_dpmpp, and clamped with {@code --clip-denoised true} (its network's estimates
   * leave [-1, 1]: unclamped, the images of seed 5 differ from these by 0.30).
   */
  @ParameterizedTest
  @CsvSource({"ct_learned, ddpm, 5, ", "learned_gaussian, ddpm, 20, ", "weighted_objective, ddim, 6, ",
      "edm_samplers, dpmpp, 5, ", "edm_samplers, dpmpp, 5, true"})
  void servingDefaultOfTheFamily(String fixture, String sampler, int steps, String clipDenoised) throws IOException {
    Path folder = Path.of("src/test/resources/reference", fixture);
    Path saved = dir.resolve("saved/" + fixture + (clipDenoised == null ? "" : "-clip-" + clipDenoised));
    List<String> options = new java.util.ArrayList<>(List.of("--sampler", sampler));
    if (clipDenoised != null) {
      options.addAll(List.of("--clip-denoised", clipDenoised));
    }
    List<String> args = new java.util.ArrayList<>(List.of("export", "--model", folder.toString(), "--out",
        saved.toString(), "--steps", Integer.toString(steps)));
    args.addAll(options);
    java.io.StringWriter err = new java.io.StringWriter();
    assertEquals(0, io.diffusion4j.cli.Main.run(args.toArray(String[]::new),
        new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err, true)), err.toString());
    assertServingEqualsSample(folder, saved.resolve("1"), options, new Integer[] {steps}, -1);
  }

  /** serving_default of {@code saved} against {@code sample} of {@code folder} with {@code options}, at each step count (null: default). */
  private void assertServingEqualsSample(Path folder, Path saved, List<String> options, Integer[] stepCounts,
      int defaultSteps) throws IOException {
    try (SavedModelBundle b = SavedModelBundle.load(saved.toString(), "serve")) {
      for (Integer steps : stepCounts) {
        Path npy = dir.resolve("cli-" + String.join("", options) + steps + ".npy");
        List<String> args = new java.util.ArrayList<>(List.of("sample", "--model", folder.toString(), "--seed", "5",
            "--num", "3", "--out", npy.toString()));
        args.addAll(options);
        if (steps != null) {
          args.addAll(List.of("--steps", steps.toString()));
        }
        java.io.StringWriter err = new java.io.StringWriter();
        assertEquals(0, io.diffusion4j.cli.Main.run(args.toArray(String[]::new),
            new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err, true)), err.toString());
        FloatArray fromCli = io.diffusion4j.io.Npy.read(npy);
        try (TInt64 seed = TInt64.scalarOf(5); TInt32 num = TInt32.scalarOf(3);
            TInt32 k = TInt32.scalarOf(steps == null ? defaultSteps : steps);
            Result r = b.function("serving_default").call(Map.of("seed", seed, "num", num, "steps", k))) {
            FloatArray images = io.diffusion4j.nn.Tensors.toArray((TFloat32) r.get("images").orElseThrow());
            assertTrue(java.util.Arrays.equals(fromCli.shape(), images.shape()), java.util.Arrays.toString(images.shape()));
            Close.assertClose(fromCli.data(), images.data(), 1e-4);
        }
      }
    }
  }

  /** saved_model.pb: tag serve, the denoise signature with TF Serving's method name and its tensors. */
  @Test
  void protoCarriesTagsSignatureAndMethodName() throws IOException {
    Path saved = SavedModelExport.export(modelFolder(UNET), dir.resolve("saved/unet"), 7L);
    SavedModel proto = SavedModelInfo.read(saved);
    MetaGraphDef meta = proto.getMetaGraphs(0);
    assertEquals(List.of("serve"), meta.getMetaInfoDef().getTagsList());
    SignatureDef denoise = meta.getSignatureDefOrThrow("denoise");
    assertEquals("tensorflow/serving/predict", denoise.getMethodName());
    assertEquals(List.of("time", "x"), denoise.getInputsMap().keySet().stream().sorted().toList());
    assertEquals(List.of("out"), List.copyOf(denoise.getOutputsMap().keySet()));
    // a Unet is fully convolutional: any size its downsampling divides
    assertEquals("[?, ?, ?, 3]", SavedModelInfo.shape(denoise.getInputsOrThrow("x").getTensorShape()));
    assertTrue(Files.exists(saved.resolve("assets.extra/config.json")));
    assertTrue(SavedModelInfo.describe(proto).contains("signature 'denoise' (method tensorflow/serving/predict)"));
  }

  /** Every network family exports with and without a diffusion part, with the conditioning inputs it takes, and runs. */
  @Test
  void everyNetworkTypeExports() throws IOException {
    KarrasUnetConfig karras2d = KarrasUnetConfig.builder(8).dim(8).dimMax(16).channels(1).numClasses(3)
        .numDownsamples(1).numBlocksPerStage(List.of(1)).attnRes(List.of(4)).build();
    KarrasUnetConfig karras1d = KarrasUnetConfig.builder1d(16).dim(8).dimMax(16).channels(2).numDownsamples(1)
        .numBlocksPerStage(List.of(1)).attnRes(List.of(8)).build();
    KarrasUnetConfig karras3d = KarrasUnetConfig.builder3d(2, 8).dim(8).dimMax(16).channels(3).numDownsamples(1)
        .numBlocksPerStage(List.of(1)).attnRes(List.of(4)).build();
    UnetConfig unet1d = UnetConfig.builder1d(8).dimMults(List.of(1, 2)).channels(2).selfCondition(true).build();
    Map<String, ModelConfig> configs = new java.util.TreeMap<>(Map.of(
        "unet", UNET, "unet-bare", BARE_UNET,
        "unet1d", new ModelConfig(unet1d, GaussianDiffusionConfig.builder1d(16).timesteps(10).build()),
        "unet1d-bare", new ModelConfig(unet1d, null),
        "karras2d", new ModelConfig(karras2d, ElucidatedDiffusionConfig.builder(8, 8).channels(1).build()),
        "karras2d-bare", new ModelConfig(karras2d, null),
        "karras1d", new ModelConfig(karras1d, ElucidatedDiffusionConfig.builder(16).channels(2).build()),
        "karras1d-bare", new ModelConfig(karras1d, null),
        "karras3d", new ModelConfig(karras3d, ElucidatedDiffusionConfig.builder(2, 8, 8).channels(3).build()),
        "karras3d-bare", new ModelConfig(karras3d, null)));
    for (var e : configs.entrySet()) {
      Path saved = SavedModelExport.export(modelFolder(e.getValue()), dir.resolve("saved/" + e.getKey()), null);
      NetworkConfig net = e.getValue().network();
      SignatureDef sig = SavedModelInfo.read(saved).getMetaGraphs(0).getSignatureDefOrThrow("denoise");
      assertEquals(net instanceof UnetConfig u && u.selfCondition(), sig.containsInputs("x_self_cond"), e.getKey());
      assertEquals(net.numClasses() > 0, sig.containsInputs("class_labels"), e.getKey());
      assertEquals(e.getValue().diffusion() != null,
          SavedModelInfo.read(saved).getMetaGraphs(0).containsSignatureDef("serving_default"), e.getKey());
      long[] shape = sig.getInputsOrThrow("x").getTensorShape().getDimList().stream().mapToLong(d -> d.getSize()).toArray();
      shape[0] = 2;
      for (int i = 1; i < shape.length - 1; i++) {
        shape[i] = shape[i] < 0 ? 8 : shape[i];
      }
      try (SavedModelBundle b = SavedModelBundle.load(saved.toString(), "serve");
          TFloat32 x = TFloat32.tensorOf(Shape.of(shape)); TFloat32 t = TFloat32.vectorOf(0.1f, 0.5f);
          TInt64 labels = TInt64.vectorOf(0, 2); TFloat32 selfCond = TFloat32.tensorOf(Shape.of(shape))) {
        Map<String, Tensor> in = new java.util.HashMap<>(Map.of("x", x, "time", t));
        if (sig.containsInputs("class_labels")) {
          in.put("class_labels", labels);
        }
        if (sig.containsInputs("x_self_cond")) {
          in.put("x_self_cond", selfCond);
        }
        try (Result r = b.function("denoise").call(in)) {
          assertEquals(Shape.of(shape), r.get("out").orElseThrow().shape(), e.getKey());
        }
      }
    }
  }

  @Test
  void failuresAreClearAndLeaveNothingBehind() throws IOException {
    Path folder = modelFolder(UNET);
    Path root = dir.resolve("saved/unet");
    SavedModelExport.export(folder, root, 1L);
    var exists = assertThrows(java.nio.file.FileAlreadyExistsException.class,
        () -> SavedModelExport.export(folder, root, 1L));
    assertTrue(exists.getMessage().contains("version 1 exists already"), exists.getMessage());

    var again = assertThrows(IllegalArgumentException.class,
        () -> SavedModelExport.export(root.resolve("1"), dir.resolve("saved/again"), null));
    assertTrue(again.getMessage().contains("is a SavedModel already"), again.getMessage());

    Path file = Files.writeString(dir.resolve("a-file"), "x");
    assertThrows(IOException.class, () -> SavedModelExport.export(folder, file.resolve("models"), null));

    Path broken = Files.createTempDirectory(dir, "broken");
    Files.writeString(broken.resolve("config.json"), "{\"model\": {\"type\": \"Unet\", \"dim\": 8, \"dim_mults\": [1, 2]}}");
    Files.writeString(broken.resolve("model.safetensors"), "not safetensors");
    assertThrows(IOException.class, () -> SavedModelExport.export(broken, root, null));
    try (Stream<Path> left = Files.list(root)) {
      assertEquals(List.of("1"), left.map(p -> p.getFileName().toString()).toList(), "only the good export remains");
    }
    assertFalse(Files.exists(root.resolve("2")));
  }
}
