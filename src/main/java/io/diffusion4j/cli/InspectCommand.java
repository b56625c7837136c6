package io.diffusion4j.cli;

import io.diffusion4j.export.SavedModelInfo;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code inspect}: a SavedModel's tags and signatures, read from saved_model.pb. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    header = "Print a SavedModel's tags, signatures, method names, inputs and outputs (like saved_model_cli).")
final class InspectCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "PATH", description = "a SavedModel folder (holding saved_model.pb) or the .pb file")
  Path path;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getOut();
    out.print(SavedModelInfo.describe(SavedModelInfo.read(path)));
    out.flush();
    return 0;
  }
}
