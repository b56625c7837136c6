package io.diffusion4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tools/diffusion4j <command>}: the command line of the contracts. */
@Command(name = "diffusion4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Train, sample and serve denoising diffusion models on TensorFlow Java.",
    subcommands = {TrainCommand.class, SampleCommand.class, ExportCommand.class, InspectCommand.class, BenchCommand.class,
        FidCommand.class, TrainClassifierCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs a command line; errors become one sentence on {@code err} and a non-zero exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(out);
    cli.setErr(err);
    cli.setParameterExceptionHandler((e, a) -> {
      err.println("diffusion4j: " + e.getMessage() + " (see " + commandName(e.getCommandLine()) + " --help)");
      return 2;
    });
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      err.println("diffusion4j: " + describe(e));
      return 1;
    });
    return cli.execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(new CommandLine(this), "a command is required: train, sample, export, inspect, bench or fid");
  }

  private static String commandName(CommandLine c) {
    return c.getCommandSpec().qualifiedName();
  }

  /** One sentence for a failure, without a stack trace; unexpected ones keep their type. */
  static String describe(Throwable e) {
    String message = e.getMessage();
    if (e instanceof java.nio.file.NoSuchFileException n) {
      return "no such file: " + n.getFile() + (n.getReason() == null ? "" : " (" + n.getReason() + ")");
    }
    if (e instanceof java.nio.file.AccessDeniedException a) {
      return "permission denied: " + a.getFile();
    }
    if (e instanceof IllegalArgumentException || e instanceof IllegalStateException
        || e instanceof java.io.IOException) {
      return message == null ? e.getClass().getSimpleName() : message;
    }
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"diffusion4j " + io.diffusion4j.Version.current()};
    }
  }
}
