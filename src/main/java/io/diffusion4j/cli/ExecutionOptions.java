package io.diffusion4j.cli;

import io.diffusion4j.runtime.Execution;
import java.io.PrintStream;
import picocli.CommandLine.Option;

/** {@code --device}, {@code --amp}, {@code --mixed-precision-type}, {@code --xla}: the commands that run a model take them. */
final class ExecutionOptions {
  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu", description = Execution.DEVICE_DOC)
  String device;

  @Option(names = "--amp", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
      description = Execution.AMP_DOC)
  Boolean amp;

  @Option(names = "--mixed-precision-type", paramLabel = "TYPE", description = Execution.MIXED_PRECISION_TYPE_DOC)
  String mixedPrecisionType;

  @Option(names = "--xla", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
      description = Execution.XLA_DOC)
  Boolean xla;

  /** The execution asked for; a fallback (no bfloat16 on this CPU, say) is said on {@code log}. */
  Execution resolve(PrintStream log) {
    return Execution.of(device, amp, mixedPrecisionType, xla, log::println);
  }
}
