package io.diffusion4j.cli;

import io.diffusion4j.bench.Bench;
import io.diffusion4j.bench.BenchCase;
import io.diffusion4j.bench.Peak;
import io.diffusion4j.bench.Profile;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.runtime.Execution;
import io.diffusion4j.runtime.Precision;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bench}: times training steps, evaluations and sampling runs, one JSON line per case. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    header = "Time training steps, evaluations and sampling runs against this machine's measured peak.",
    description = {
        "It first measures TensorFlow's float32 MatMul speed (the peak), then prints",
        "one JSON line per case: median/min/max ms, parameters, threads, GFLOP per",
        "run, GFLOP/s achieved and of_peak, their share of the peak. Built-in cases:",
        "unet2d_train, unet2d_eval, unet2d_ddim50, unet1d_train, edm_train,",
        "edm_heun32, karras_fwd_bwd. Compare with other code only when it is timed",
        "beside this on the same machine."})
final class BenchCommand implements Callable<Integer> {
  /** Quick runs: batches and sampling runs cut to these, one warm-up and one timed run. */
  private static final int QUICK_BATCH = 2;
  private static final int QUICK_STEPS = 2;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "CASE", arity = "0..*", description = "built-in cases to run (default: all)")
  List<String> cases = new ArrayList<>();

  @Option(names = "--config", paramLabel = "FILE", description = "time this config.json instead: a training step,"
      + " an evaluation and a sampling run (a forward+backward pass for a bare network)")
  Path config;

  @Option(names = "--batch", paramLabel = "N", defaultValue = "16", description = "batch size for --config (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--steps", paramLabel = "K", defaultValue = "0",
      description = "sampling steps for --config (default: what its diffusion implies)")
  int steps;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "2", description = "untimed runs first (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--repeats", paramLabel = "N", defaultValue = "5",
      description = "timed runs (default: ${DEFAULT-VALUE}; sampling runs: 3)")
  int repeats;

  @Option(names = "--quick", description = "a smoke run in under 30 s: batch " + QUICK_BATCH + ", sampling cut to "
      + QUICK_STEPS + " steps, 1 warm-up and 1 timed run")
  boolean quick;

  @Option(names = "--profile", description = "instead of timing, trace the cases' runs and print where the time goes:"
      + " kernel time by network part (forward, backward, optimizer, EMA) and by op type, as Markdown tables")
  boolean profile;

  @Mixin
  ExecutionOptions executionOptions = new ExecutionOptions();

  @Option(names = "--peak", description = "only measure the peak: MatMul of " + Peak.N + "x" + Peak.N
      + " matrices in float32 and in bfloat16, as GFLOP/s")
  boolean peak;

  @Override
  public Integer call() throws Exception {
    if (batch < 1) {
      throw new IllegalArgumentException("--batch " + batch + " must be at least 1");
    }
    if (steps < 0) {
      throw new IllegalArgumentException("--steps " + steps + " must be at least 1 (or 0 for the config's default)");
    }
    if (warmup < 0 || repeats < 1) {
      throw new IllegalArgumentException("--warmup " + warmup + " must be at least 0 and --repeats " + repeats
          + " at least 1");
    }
    var out = spec.commandLine().getOut();
    Execution execution = executionOptions.resolve(System.err);
    if (peak) {
      if (config != null || !cases.isEmpty()) {
        throw new IllegalArgumentException("--peak measures the machine only: give no cases and no --config with it");
      }
      out.println(Peak.float32(Peak.N).toJson());
      if (Precision.cpuHasBf16()) {
        out.println(Peak.bfloat16(Peak.N).toJson());
      } else {
        // oneDNN would abort the process on a bfloat16 product it has no kernel for
        System.err.println("bench: no bfloat16 peak: this CPU has neither AVX-512 BF16 nor AMX (or ONEDNN_MAX_CPU_ISA"
            + " leaves oneDNN without them)");
      }
      return 0;
    }
    List<BenchCase> todo = new ArrayList<>();
    if (config != null) {
      if (!cases.isEmpty()) {
        throw new IllegalArgumentException("give either --config or built-in case names, not both");
      }
      String name = config.getFileName().toString().replaceFirst("\\.json$", "");
      todo.addAll(BenchCase.forConfig(name, ModelConfig.read(config), batch, steps));
    } else if (cases.isEmpty()) {
      todo.addAll(BenchCase.BUILT_IN);
    } else {
      cases.forEach(n -> todo.add(BenchCase.named(n)));
    }
    // the machine's own peak in the precision the cases run in, measured now: figures from another machine compare nothing
    Peak.Measurement reference = null;
    if (!profile) {
      int n = quick ? Peak.N / 2 : Peak.N;
      reference = execution.precision() == Precision.BF16 ? Peak.bfloat16(n) : Peak.float32(n);
      out.println(reference.toJson());
      out.flush();
    }
    for (BenchCase c : todo) {
      boolean sampling = c.kind() == BenchCase.Kind.SAMPLE;
      BenchCase run = quick ? c.reduced(QUICK_BATCH, QUICK_STEPS) : c;
      int w = quick ? 1 : sampling ? Math.min(warmup, 1) : warmup;
      int r = quick ? 1 : sampling ? Math.min(repeats, 3) : repeats;
      if (profile) {
        Profile p = new Profile();
        Bench.run(run, execution, w, r, p);
        p.print(out, c.name() + " (" + execution.describe() + ", batch " + run.batch() + ")", 15);
      } else {
        out.println(Bench.run(run, execution, w, r, null).toJson(reference.gflops()));
        out.flush();
      }
    }
    return 0;
  }
}
