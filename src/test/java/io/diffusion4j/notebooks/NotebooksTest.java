package io.diffusion4j.notebooks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.diffusion.GaussianDiffusionConfig;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Safetensors;
import io.diffusion4j.models.UnetConfig;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executes the notebooks in notebooks/ with Debian's Python (/usr/bin/python3 -m jupyter nbconvert
 * --execute): explore_training_run.ipynb on the small runs in src/test/resources/notebooks/ (2-D
 * with EMA weights, 1-D without), and pytorch_interop.ipynb on a model folder written here, whose
 * output folder is loaded back. Skipped, with the apt-get command that installs them, when that
 * Python lacks Jupyter's nbconvert, numpy, matplotlib or torch. sample_from_savedmodel.ipynb needs
 * TensorFlow for Python, which cannot be installed here, so it is not executed.
 */
class NotebooksTest {
  static final Path PYTHON = Path.of("/usr/bin/python3");
  static final Path NOTEBOOKS = Path.of("notebooks");
  static final Path FIXTURES = Path.of("src/test/resources/notebooks");
  static final long TIMEOUT_SECONDS = 120;

  /** Python module -> the Debian package that provides it. */
  static final Map<String, String> DEBIAN_PACKAGES = new LinkedHashMap<>();

  static {
    DEBIAN_PACKAGES.put("jupyter_core", "python3-jupyter-core");
    DEBIAN_PACKAGES.put("nbconvert", "jupyter-nbconvert");
    DEBIAN_PACKAGES.put("nbformat", "python3-nbformat");
    DEBIAN_PACKAGES.put("ipykernel", "python3-ipykernel");
    DEBIAN_PACKAGES.put("numpy", "python3-numpy");
    DEBIAN_PACKAGES.put("matplotlib", "python3-matplotlib");
    DEBIAN_PACKAGES.put("torch", "python3-torch");
  }

  static final List<String> EXPLORE_NEEDS = List.of("jupyter_core", "nbconvert", "nbformat", "ipykernel", "numpy", "matplotlib");
  static final List<String> INTEROP_NEEDS = List.of("jupyter_core", "nbconvert", "nbformat", "ipykernel", "numpy", "torch");

  /** The modules of DEBIAN_PACKAGES that /usr/bin/python3 cannot import; null before the first probe. */
  private static List<String> missingModules;

  @Test
  void exploresA2dRunWithEmaWeights(@TempDir Path tmp) throws Exception {
    assumePython(EXPLORE_NEEDS);
    Path run = FIXTURES.resolve("run2d").toAbsolutePath();
    long params = parameterCount(run.resolve("model.safetensors"));
    assertEquals(12_261, params, "the fixture's Unet(dim=4, dim_mults=(1, 2), channels=1)");

    Executed nb = execute("explore_training_run.ipynb", Map.of("DIFFUSION4J_RUN", run.toString()), tmp);

    assertContains(nb.text(), "model.safetensors: 141 tensors, " + grouped(params) + " parameters");
    assertContains(nb.text(), "ema.safetensors: 141 tensors, " + grouped(params) + " parameters");
    assertContains(nb.text(), "relative difference over all weights:");
    assertContains(nb.text(), "40 logged steps, from 10 to 400");
    assertContains(nb.text(), "samples: sample-200.png, sample-400.png");
    assertContains(nb.text(), "model: Unet");
    assertContains(nb.text(), "diffusion: GaussianDiffusion");
    assertTrue(nb.images() >= 3, "loss/lr plot, sample grids and EMA plot expected, got " + nb.images() + " images");
  }

  @Test
  void exploresA1dRunWithoutEmaWeights(@TempDir Path tmp) throws Exception {
    assumePython(EXPLORE_NEEDS);
    Path run = FIXTURES.resolve("run1d").toAbsolutePath();
    long params = parameterCount(run.resolve("model.safetensors"));
    assertEquals(44_178, params, "the fixture's Unet1D(dim=8, dim_mults=(1, 2), channels=2)");

    Executed nb = execute("explore_training_run.ipynb", Map.of("DIFFUSION4J_RUN", run.toString()), tmp);

    assertContains(nb.text(), "model.safetensors: 138 tensors, " + grouped(params) + " parameters");
    assertContains(nb.text(), "no ema.safetensors in this folder");
    assertContains(nb.text(), "sample-300.npy: shape [4, 16, 2]");
    assertContains(nb.text(), "30 logged steps, from 10 to 300");
    assertContains(nb.text(), "diffusion: GaussianDiffusion1D");
    assertTrue(nb.images() >= 2, "loss/lr plot and sequence plot expected, got " + nb.images() + " images");
  }

  /** Java writes a model folder, PyTorch edits it (zeroes final_conv.bias) and writes it, Java loads it. */
  @Test
  void pytorchInteropRoundTrip(@TempDir Path tmp) throws Exception {
    assumePython(INTEROP_NEEDS);
    Path javaModel = tmp.resolve("java-model");
    Path fromTorch = tmp.resolve("from-pytorch");
    ModelConfig config = new ModelConfig(
        UnetConfig.builder(8).dimMults(List.of(1, 2)).channels(1).attnHeads(List.of(1)).attnDimHead(List.of(8)).build(),
        GaussianDiffusionConfig.builder(8, 8).timesteps(10).build());
    try (DiffusionModel model = DiffusionModel.create(config, 1)) {
      model.save(javaModel);
    }

    Executed nb = execute("pytorch_interop.ipynb", Map.of(
        "DIFFUSION4J_MODEL", javaModel.toAbsolutePath().toString(),
        "DIFFUSION4J_OUT", fromTorch.toAbsolutePath().toString()), tmp);
    assertContains(nb.text(), "zeroed final_conv.bias [1]");
    assertContains(nb.text(), "differing from the input: ['final_conv.bias']");

    Map<String, FloatArray> original = Safetensors.read(javaModel.resolve(DiffusionModel.MODEL_WEIGHTS));
    Map<String, FloatArray> written = Safetensors.read(fromTorch.resolve(DiffusionModel.MODEL_WEIGHTS));
    assertEquals(new ArrayList<>(original.keySet()), new ArrayList<>(written.keySet()), "same names in the same order");
    assertEquals(Files.readString(javaModel.resolve(DiffusionModel.CONFIG)),
        Files.readString(fromTorch.resolve(DiffusionModel.CONFIG)));

    Map<String, FloatArray> loaded;
    try (DiffusionModel back = DiffusionModel.load(fromTorch, DiffusionModel.Weights.MODEL)) {
      assertEquals(config, back.config());
      loaded = back.weights();
    }
    assertEquals(original.keySet(), loaded.keySet());
    for (Map.Entry<String, FloatArray> e : original.entrySet()) {
      String name = e.getKey();
      FloatArray before = e.getValue();
      FloatArray after = loaded.get(name);
      assertArrayEquals(before.shape(), after.shape(), name);
      if (name.equals("final_conv.bias")) {
        assertTrue(anyNonZero(before.data()), "the freshly initialised final_conv.bias should not be zero already");
        assertArrayEquals(new float[before.data().length], after.data(), name + " zeroed in PyTorch");
      } else {
        assertArrayEquals(before.data(), after.data(), name + " unchanged, bit for bit");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  record Executed(String text, int images) {}

  /** Runs nbconvert --execute on notebooks/NAME with extra environment variables; fails on error or timeout. */
  static Executed execute(String notebook, Map<String, String> env, Path tmp) throws IOException, InterruptedException {
    Path outDir = Files.createDirectories(tmp.resolve("executed"));
    String outName = notebook.replace(".ipynb", "") + "-executed";
    Path log = tmp.resolve(outName + ".log");
    ProcessBuilder pb = new ProcessBuilder(PYTHON.toString(), "-m", "jupyter", "nbconvert", "--to", "notebook",
        "--execute", "--ExecutePreprocessor.timeout=" + (TIMEOUT_SECONDS - 10),
        "--output-dir", outDir.toAbsolutePath().toString(), "--output", outName,
        NOTEBOOKS.resolve(notebook).toAbsolutePath().toString());
    isolate(pb, tmp);
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    int code = run(pb, notebook);
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, code, () -> notebook + " failed (exit " + code + "):\n" + tail(output, 6000));
    return outputs(outDir.resolve(outName + ".ipynb"));
  }

  /** Starts the process and waits at most TIMEOUT_SECONDS; on timeout kills it with its children (the kernel). */
  static int run(ProcessBuilder pb, String what) throws IOException, InterruptedException {
    Process p = pb.start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      fail(what + " did not finish within " + TIMEOUT_SECONDS + " s and was killed");
    }
    return p.exitValue();
  }

  /** Keeps the child Python and Jupyter away from the caller's settings and home directory. */
  static void isolate(ProcessBuilder pb, Path tmp) throws IOException {
    Map<String, String> env = pb.environment();
    env.remove("PYTHONPATH");
    env.remove("PYTHONHOME");
    env.put("JUPYTER_DATA_DIR", Files.createDirectories(tmp.resolve("jupyter-data")).toString());
    env.put("JUPYTER_RUNTIME_DIR", Files.createDirectories(tmp.resolve("jupyter-runtime")).toString());
    env.put("IPYTHONDIR", Files.createDirectories(tmp.resolve("ipython")).toString());
    env.put("MPLCONFIGDIR", Files.createDirectories(tmp.resolve("matplotlib")).toString());
    env.put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
  }

  /** The text the executed notebook printed (streams and text results) and how many images it shows. */
  static Executed outputs(Path executed) throws IOException {
    JsonObject nb = JsonParser.parseString(Files.readString(executed, StandardCharsets.UTF_8)).getAsJsonObject();
    StringBuilder text = new StringBuilder();
    int images = 0;
    for (JsonElement cell : nb.getAsJsonArray("cells")) {
      JsonArray outs = cell.getAsJsonObject().getAsJsonArray("outputs");
      if (outs == null) {
        continue;
      }
      for (JsonElement o : outs) {
        JsonObject out = o.getAsJsonObject();
        if (out.has("text")) {
          text.append(joined(out.get("text")));
        }
        if (out.has("data")) {
          JsonObject data = out.getAsJsonObject("data");
          if (data.has("image/png")) {
            images++;
          } else if (data.has("text/plain")) {
            text.append(joined(data.get("text/plain"))).append('\n');
          }
        }
      }
    }
    return new Executed(text.toString(), images);
  }

  /** nbformat stores multi-line text as a string or as a list of lines. */
  static String joined(JsonElement e) {
    if (e.isJsonArray()) {
      StringBuilder b = new StringBuilder();
      e.getAsJsonArray().forEach(line -> b.append(line.getAsString()));
      return b.toString();
    }
    return e.getAsString();
  }

  /** Skips the test, saying what to install, when /usr/bin/python3 lacks a module the notebook needs. */
  static void assumePython(List<String> needed) throws IOException, InterruptedException {
    assumeTrue(Files.isExecutable(PYTHON), PYTHON + " is not there: the notebook tests need Debian's Python 3 with"
        + " Jupyter, numpy, matplotlib and torch (apt-get install python3 " + String.join(" ", DEBIAN_PACKAGES.values()) + ")");
    List<String> missing = new ArrayList<>();
    for (String m : missingModules()) {
      if (needed.contains(m)) {
        missing.add(m);
      }
    }
    List<String> packages = missing.stream().map(DEBIAN_PACKAGES::get).toList();
    assumeTrue(missing.isEmpty(), () -> PYTHON + " cannot import " + String.join(", ", missing)
        + ": install with apt-get install " + String.join(" ", packages));
  }

  static synchronized List<String> missingModules() throws IOException, InterruptedException {
    if (missingModules == null) {
      String probe = "import importlib, sys\n"
          + "for m in sys.argv[1:]:\n"
          + "    try:\n"
          + "        importlib.import_module(m)\n"
          + "    except Exception:\n"
          + "        print(m)\n";
      List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), "-c", probe));
      cmd.addAll(DEBIAN_PACKAGES.keySet());
      Path tmp = Files.createTempDirectory("notebooks-probe");
      try {
        Path log = tmp.resolve("probe.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        isolate(pb, tmp);
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        int code = run(pb, "probing " + PYTHON);
        String out = Files.readString(log, StandardCharsets.UTF_8);
        if (code != 0) {
          fail(PYTHON + " failed to run the import probe (exit " + code + "):\n" + tail(out, 2000));
        }
        List<String> missing = new ArrayList<>();
        for (String line : out.split("\\R")) {
          if (DEBIAN_PACKAGES.containsKey(line.strip())) {
            missing.add(line.strip());
          }
        }
        missingModules = missing;
      } finally {
        try (var files = Files.walk(tmp)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
    return missingModules;
  }

  static long parameterCount(Path safetensors) throws IOException {
    return Safetensors.read(safetensors).values().stream().mapToLong(FloatArray::size).sum();
  }

  static String grouped(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  static boolean anyNonZero(float[] values) {
    for (float v : values) {
      if (v != 0) {
        return true;
      }
    }
    return false;
  }

  static void assertContains(String text, String expected) {
    assertTrue(text.contains(expected), () -> "expected the notebook to print \"" + expected + "\"; it printed:\n"
        + tail(text, 6000));
  }

  static String tail(String s, int max) {
    return s.length() <= max ? s : "..." + s.substring(s.length() - max);
  }
}
