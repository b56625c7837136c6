package io.diffusion4j.cli;

import io.diffusion4j.distribute.Cluster;
import io.diffusion4j.runtime.Execution;
import java.io.EOFException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TensorFlowException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tools/diffusion4j <command>}: the command line of the contracts. */
@Command(name = "diffusion4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Train, sample and serve denoising diffusion models on TensorFlow Java.",
    subcommands = {TrainCommand.class, SampleCommand.class, ExportCommand.class, InspectCommand.class, BenchCommand.class,
        FidCommand.class, ClassifyCommand.class, TrainClassifierCommand.class, EmaCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  /** Set (to anything) to have failures print their stack trace after the one-line message. */
  static final String DEBUG = "DIFFUSION4J_DEBUG";

  /**
   * True when the command line is the process's own ({@link #main}), not a call inside a larger
   * program: only then do its commands take over what signals do.
   */
  static volatile boolean ownsProcess;

  public static void main(String[] args) {
    ownsProcess = true;
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs a command line; errors become one sentence on {@code err} and a non-zero exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    Execution.prepareProcess();
    CommandLine cli = new CommandLine(new Main());
    TrainCommand.declareTrainerOptions(cli.getSubcommands().get("train").getCommandSpec());
    cli.setOut(out);
    cli.setErr(err);
    cli.setParameterExceptionHandler((e, a) -> {
      String message = oneLine(e.getMessage()).replaceFirst("^Error: ", "");
      err.println("diffusion4j: " + message + " (see " + commandName(e.getCommandLine()) + " --help)");
      return 2;
    });
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      err.println("diffusion4j: " + describe(e));
      if (System.getenv(DEBUG) != null) {
        e.printStackTrace(err);
      }
      return 1;
    });
    try {
      return cli.execute(args);
    } catch (OutOfMemoryError e) {
      err.println("diffusion4j: " + describe(e));
      return 1;
    }
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(new CommandLine(this), "a command is required: train, sample, export, inspect, bench, fid, classify or ema");
  }

  private static String commandName(CommandLine c) {
    return c.getCommandSpec().qualifiedName();
  }

  /**
   * One sentence for a failure, in the user's terms: which file, which option, what to change.
   * Never a stack trace, and never a Java or TensorFlow class name.
   */
  static String describe(Throwable e) {
    while ((e instanceof UncheckedIOException || e instanceof ExecutionException
        || e instanceof InvocationTargetException) && e.getCause() != null) {
      e = e.getCause();
    }
    String message = e.getMessage();
    if (e instanceof NoSuchFileException n) {
      return "no such file: " + n.getFile() + (n.getReason() == null ? "" : " (" + n.getReason() + ")");
    }
    if (e instanceof AccessDeniedException a) {
      return "permission denied: " + a.getFile() + (a.getReason() == null ? "" : " (" + a.getReason() + ")");
    }
    if (e instanceof FileAlreadyExistsException a) {
      return a.getFile() + (a.getReason() == null ? " exists already" : ": " + a.getReason());
    }
    if (e instanceof NotDirectoryException n) {
      return n.getFile() + " is not a folder";
    }
    if (e instanceof FileSystemException f) {
      return f.getFile() + ": " + (f.getReason() == null ? "cannot be used" : f.getReason().toLowerCase(Locale.ROOT));
    }
    if (e instanceof EOFException) {
      return "a file ended before its data did" + (message == null ? "" : ": " + oneLine(message));
    }
    if (e instanceof TFResourceExhaustedException) {
      return "TensorFlow ran out of memory; a smaller --batch-size lowers what a step needs";
    }
    if (e instanceof OutOfMemoryError) {
      return "the JVM ran out of heap memory: lower --batch-size, or give it more with"
          + " DIFFUSION4J_JAVA_OPTS=-Xmx16g";
    }
    if (e instanceof TensorFlowException) {
      return "TensorFlow failed: " + oneLine(message);
    }
    if (message == null || message.isBlank()) {
      return "internal error with no message (set " + DEBUG + "=1 to see where); please report it";
    }
    return oneLine(message);
  }

  /** The message on one line, without the class names that Java and its libraries prefix to messages. */
  static String oneLine(String message) {
    if (message == null) {
      return "";
    }
    String text = TF_NODE.matcher(Cluster.withoutTask(message)).replaceAll("").strip()
        .replaceAll("\\s*\\R\\s*", "; ");
    return CLASS_NAME.matcher(text).replaceAll("");
  }

  /** TensorFlow's " [[{{node name}}]]" after a kernel's message. */
  private static final Pattern TF_NODE = Pattern.compile("\\s*\\[\\[\\{\\{node [^}]*}}]]");

  /** "java.io.EOFException: ", "com.google.gson.stream.MalformedJsonException: ", "NumberFormatException: " */
  private static final Pattern CLASS_NAME = Pattern.compile(
      "\\b(?:[a-z][a-z0-9_]*\\.)*[A-Z][A-Za-z0-9_]*(?:Exception|Error)\\b:?\\s*");

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"diffusion4j " + io.diffusion4j.Version.current()};
    }
  }
}
