package io.diffusion4j.distribute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.cli.Main;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import io.diffusion4j.io.Safetensors;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two worker JVMs on loopback do what one process does. Training: the same seeded run with the
 * global batch split between them (and, within each, into micro-batches), gradients averaged by
 * TensorFlow's collective all-reduce, ends within float32 summation order of the single process,
 * and the two replicas end bit for bit equal. Sampling: the chief writes the images one process
 * draws.
 */
class MultiWorkerTest {
  @TempDir
  Path dir;

  private static final String CONFIG = """
      {"model": {"type": "Unet", "dim": 8, "dim_mults": [1, 2], "channels": 1, "dropout": 0.1,
                 "attn_heads": 1, "attn_dim_head": 8},
       "diffusion": {"type": "GaussianDiffusion", "image_size": 8, "timesteps": 100, "sampling_timesteps": 3}}
      """;

  @Test
  void twoWorkersTrainWhatOneProcessTrains() throws Exception {
    Path config = Files.writeString(dir.resolve("config.json"), CONFIG);
    float[] pixels = new float[32 * 8 * 8];
    SplittableRandom r = new SplittableRandom(5);
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (float) r.nextDouble();
    }
    Path data = dir.resolve("data.npy");
    Npy.write(data, new FloatArray(new long[] {32, 8, 8, 1}, pixels));
    List<String> args = List.of("train", "--config", config.toString(), "--data", data.toString(), "--steps", "6",
        "--batch-size", "4", "--gradient-accumulate-every", "2", "--seed", "3", "--save-and-sample-every", "100",
        "--num-samples", "4", "--log-every", "1", "--loader-threads", "1");

    List<Process> workers = startWorkers(args, dir.resolve("two"));
    StringWriter err = new StringWriter();
    List<String> single = new ArrayList<>(args);
    single.addAll(List.of("--out", dir.resolve("one").toString()));
    assertEquals(0, Main.run(single.toArray(String[]::new), new PrintWriter(new StringWriter()),
        new PrintWriter(err, true)), err.toString());

    String[] fingerprints = new String[2];
    for (int i = 0; i < 2; i++) {
      String log = awaitWorker(workers, i);
      Matcher m = Pattern.compile("worker " + i + " done: weights ([0-9a-f]+)").matcher(log);
      assertTrue(m.find(), log);
      fingerprints[i] = m.group(1);
    }
    assertEquals(fingerprints[0], fingerprints[1], "the replicas differ");

    for (String file : List.of("model.safetensors", "ema.safetensors")) {
      Map<String, FloatArray> one = Safetensors.read(dir.resolve("one").resolve(file));
      Map<String, FloatArray> two = Safetensors.read(dir.resolve("two").resolve(file));
      assertEquals(one.keySet(), two.keySet());
      double worst = 0;
      for (String name : one.keySet()) {
        float[] a = one.get(name).data();
        float[] b = two.get(name).data();
        for (int j = 0; j < a.length; j++) {
          worst = Math.max(worst, Math.abs(a[j] - b[j]));
        }
      }
      assertTrue(worst <= 1e-4, file + ": largest difference " + worst);
    }
    // the other worker writes nothing: only the chief's folder exists
    assertTrue(Files.exists(dir.resolve("two").resolve("checkpoint.json")));
  }

  /** The workers share every batch; the chief's file holds what one process draws, image for image. */
  @Test
  void twoWorkersSampleWhatOneProcessSamples() throws Exception {
    Path model = dir.resolve("model");
    try (DiffusionModel m = DiffusionModel.create(ModelConfig.parse(CONFIG), 11)) {
      m.save(model);
    }
    // 7 images in batches of 3: shares of 2 and 1, then a last batch of 1 that worker 1 draws alone
    List<String> args = List.of("sample", "--model", model.toString(), "--num", "7", "--batch-size", "3", "--steps",
        "3", "--seed", "9", "--sampler", "dpmpp_2m_sde");
    Path shared = dir.resolve("two.npy");
    List<Process> workers = startWorkers(args, shared);
    StringWriter err = new StringWriter();
    List<String> single = new ArrayList<>(args);
    single.addAll(List.of("--out", dir.resolve("one.npy").toString()));
    assertEquals(0, Main.run(single.toArray(String[]::new), new PrintWriter(new StringWriter()),
        new PrintWriter(err, true)), err.toString());
    for (int i = 0; i < 2; i++) {
      awaitWorker(workers, i);
    }
    FloatArray one = Npy.read(dir.resolve("one.npy"));
    FloatArray two = Npy.read(shared);
    assertEquals(java.util.Arrays.toString(one.shape()), java.util.Arrays.toString(two.shape()));
    io.diffusion4j.Close.assertClose(one.data(), two.data(), 1e-5);
  }

  /** Two worker JVMs running {@code args} with {@code --out out}, on free loopback ports. */
  private List<Process> startWorkers(List<String> args, Path out) throws IOException {
    int[] ports = {freePort(), freePort()};
    List<Process> workers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
      command.addAll(args);
      command.addAll(List.of("--out", out.toString()));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve("worker" + i + ".log").toFile());
      pb.environment().put("TF_CONFIG", "{\"cluster\": {\"worker\": [\"localhost:" + ports[0] + "\", \"localhost:"
          + ports[1] + "\"]}, \"task\": {\"type\": \"worker\", \"index\": " + i + "}}");
      pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
      workers.add(pb.start());
    }
    return workers;
  }

  /** Worker {@code i}'s log, once it has ended well (all are killed if it does not within two minutes). */
  private String awaitWorker(List<Process> workers, int i) throws Exception {
    Process p = workers.get(i);
    boolean ended = p.waitFor(120, TimeUnit.SECONDS);
    if (!ended) {
      workers.forEach(Process::destroyForcibly);
    }
    String log = Files.readString(dir.resolve("worker" + i + ".log"));
    assertTrue(ended, "worker " + i + " did not finish: " + log);
    assertEquals(0, p.exitValue(), log);
    return log;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
