package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Pattern;

/** One in-process run of the command line, with what it printed. */
public record CliRun(int code, String out, String err) {

  public static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new CliRun(code, out.toString(), err.toString());
  }

  /** What a user must never see: an exception's class name or a stack frame. */
  static final Pattern CLASS_NAME = Pattern.compile("(Exception|Error)\\b|\\bjava\\.|org\\.tensorflow|\\tat ");

  /** The run failed with {@code expectedCode} and said so in one line that contains {@code says}. */
  void assertOneClearLine(int expectedCode, String says) {
    assertEquals(expectedCode, code, err);
    String line = err.strip();
    assertEquals(1, line.lines().count(), line);
    assertTrue(line.startsWith("diffusion4j: "), line);
    assertTrue(line.contains(says), line);
    assertFalse(CLASS_NAME.matcher(line).find(), "no class name or stack frame: " + line);
  }
}
