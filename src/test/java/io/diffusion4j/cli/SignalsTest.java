package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.train.Checkpoints;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A signal sent to the PID that {@code tools/diffusion4j} started reaches the JVM: SIGKILL leaves
 * no java process training on, and SIGTERM stops {@code train} at a step boundary with a
 * checkpoint of that step, from which {@code --resume} ends bit for bit where an uninterrupted
 * run does.
 */
class SignalsTest {
  static final Path SCRIPT = Path.of("tools", "diffusion4j").toAbsolutePath();
  static final long TIMEOUT_SECONDS = 120;

  @TempDir
  Path dir;
  private final List<Process> started = new ArrayList<>();
  private String[] common;

  /** A tiny Unet on 8 images of 8x8: steps of milliseconds, no save but the last. */
  @BeforeEach
  void tinyRun() throws IOException {
    TinyRun tiny = TinyRun.in(dir, 8);
    Path npy = tiny.data();
    Path config = tiny.config();
    common = new String[] {"train", "--data", npy.toString(), "--config", config.toString(), "--seed", "3",
        "--batch-size", "2", "--save-and-sample-every", "100000", "--num-samples", "1", "--log-every", "1"};
  }

  /** Whatever a failed test left running of what it started. */
  @AfterEach
  void endWhatWasStarted() {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    javaProcessesOf(dir).forEach(ProcessHandle::destroyForcibly);
  }

  /** {@code tools/diffusion4j ARGS} on this test's classes (no build), its standard error collected line by line. */
  private Running start(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(SCRIPT.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(dir.resolve("stdout.log").toFile());
    pb.environment().put("DIFFUSION4J_CLASSPATH", System.getProperty("java.class.path"));
    pb.environment().put("DIFFUSION4J_JAVA_OPTS", "-Xmx1g");
    Process p = pb.start();
    started.add(p);
    return new Running(p);
  }

  /** A started command and what it has written to standard error so far. */
  static final class Running {
    final Process process;
    private final StringBuffer err = new StringBuffer();
    private final Thread reader;

    Running(Process process) {
      this.process = process;
      this.reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
            StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            err.append(line).append('\n');
          }
        } catch (IOException e) {
          err.append("(reading failed: ").append(e.getMessage()).append(")\n");
        }
      });
      reader.setDaemon(true);
      reader.start();
    }

    /** Everything it wrote to standard error, once the stream has ended (the filter too). */
    String errAtEnd() throws InterruptedException {
      reader.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
      return err.toString();
    }

    String errSoFar() {
      return err.toString();
    }
  }

  /** Sends SIGNAL with kill(1): Process.destroy() would also close the streams we still read. */
  /** Sends SIGTERM, waits for the end, checks the exit status 128 + 15 and returns standard error. */
  private static String terminate(Running run) throws Exception {
    signal(run.process, "TERM");
    assertTrue(run.process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "SIGTERM ends it");
    String err = run.errAtEnd();
    assertEquals(143, run.process.exitValue(), err);
    return err;
  }

  private static void signal(Process p, String name) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).inheritIO().start();
    assertTrue(kill.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + name);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + TIMEOUT_SECONDS + " s: " + what);
      }
      Thread.sleep(10);
    }
  }

  /** Live java processes whose command line names {@code dir} (the runs of this test). */
  private static List<ProcessHandle> javaProcessesOf(Path dir) {
    try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
      return all.filter(ProcessHandle::isAlive)
          .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
          .filter(h -> h.info().commandLine().map(c -> c.contains(dir.toString())).orElse(false))
          .toList();
    }
  }

  @Test
  void sigkillToThePidTheScriptStartedLeavesNoJavaProcess() throws Exception {
    Path out = dir.resolve("killed");
    Running run = start(concat(common, "--out", out.toString(), "--steps", "1000000"));
    await("the run starts training: " + run.errSoFar(), () -> Files.exists(out.resolve("metrics.jsonl")));
    ProcessHandle pid = run.process.toHandle();
    assertTrue(pid.info().command().orElse("").endsWith("/java"), "the PID the caller holds is the JVM's: "
        + pid.info().commandLine().orElse("?"));
    List<ProcessHandle> family = new ArrayList<>(pid.descendants().toList());
    run.process.destroyForcibly();
    assertTrue(run.process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "SIGKILL ends it");
    await("no java process is left: " + javaProcessesOf(dir) + " " + family,
        () -> javaProcessesOf(dir).isEmpty() && family.stream().noneMatch(ProcessHandle::isAlive));
    run.errAtEnd();
  }

  @Test
  void sigtermStopsTrainingWithACheckpointThatResumesBitForBit() throws Exception {
    long steps = 60;
    Path whole = dir.resolve("whole");
    Path split = dir.resolve("split");
    Running run = start(concat(common, "--out", split.toString(), "--steps", Long.toString(steps)));
    await("a few steps are logged: " + run.errSoFar(), () -> {
      try {
        return Files.exists(split.resolve("metrics.jsonl"))
            && Files.readAllLines(split.resolve("metrics.jsonl")).size() >= 3;
      } catch (IOException e) {
        return false;
      }
    });
    String err = terminate(run);
    List<String> lines = err.strip().lines().toList();
    Matcher m = Pattern.compile("diffusion4j: stopped at step (\\d+) by SIGTERM: the checkpoint of step \\1 is in "
        + Pattern.quote(split.toString()) + "; go on with: tools/diffusion4j train --out "
        + Pattern.quote(split.toString()) + " --resume").matcher(lines.get(lines.size() - 1));
    assertTrue(m.matches(), err);
    long stopped = Long.parseLong(m.group(1));
    assertTrue(stopped >= 3 && stopped < steps, err);
    assertEquals(stopped, Checkpoints.read(split).step());

    CliRun resumed = CliRun.of("train", "--out", split.toString(), "--resume");
    assertEquals(0, resumed.code(), resumed.err());
    CliRun uninterrupted = CliRun.of(concat(common, "--out", whole.toString(), "--steps", Long.toString(steps)));
    assertEquals(0, uninterrupted.code(), uninterrupted.err());
    for (String file : List.of("model.safetensors", "ema.safetensors", "sample-" + steps + ".png")) {
      assertArrayEquals(Files.readAllBytes(whole.resolve(file)), Files.readAllBytes(split.resolve(file)), file);
    }
    assertEquals(losses(whole), losses(split));
  }

  /** SIGTERM while sample writes its .npy: the JVM ends as it would (143) and no partial file is left. */
  @Test
  void sigtermDuringSampleLeavesNoPartialFile() throws Exception {
    Path model = dir.resolve("model");
    try (DiffusionModel m = DiffusionModel.create(ModelConfig.read(dir.resolve("tiny.json")), 5)) {
      m.save(model);
    }
    Path outs = Files.createDirectories(dir.resolve("outs"));
    Running run = start("sample", "--model", model.toString(), "--num", "10000000", "--batch-size", "64", "--seed", "1",
        "--out", outs.resolve("s.npy").toString());
    await("the first batch is written: " + run.errSoFar(), () -> {
      try (Stream<Path> files = Files.list(outs)) {
        return files.anyMatch(f -> {
          try {
            return Files.size(f) > 64 * 8 * 8 * 4;
          } catch (IOException e) {
            return false;
          }
        });
      } catch (IOException e) {
        return false;
      }
    });
    String err = terminate(run);
    try (Stream<Path> left = Files.list(outs)) {
      assertEquals(List.of(), left.toList(), err);
    }
  }

  static List<String> losses(Path folder) throws IOException {
    return Files.readAllLines(folder.resolve("metrics.jsonl")).stream().map(l -> l.replaceAll(",\"time\".*", ""))
        .toList();
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
