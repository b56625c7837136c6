package io.diffusion4j.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * A one-line progress display: step, bar, loss, steps per second and time left. On a terminal
 * the line redraws itself at most a few times a second; in a log (no console) it prints a new
 * line every tenth of the run or every minute, whichever comes first.
 */
public final class ProgressLine {
  private static final int WIDTH = 24;

  private final PrintStream out;
  private final boolean terminal;
  private final long first;
  private final long total;
  private final long startNanos = System.nanoTime();
  private long lastPrint;
  private long lastLogged = -1;
  private double lastLoss = Double.NaN;
  private String score = "";
  private boolean midLine;

  public ProgressLine(PrintStream out, boolean terminal, long firstStep, long totalSteps) {
    this.out = out;
    this.terminal = terminal;
    this.first = firstStep;
    this.total = totalSteps;
  }

  public static ProgressLine forStandardError(long firstStep, long totalSteps) {
    return new ProgressLine(System.err, System.console() != null, firstStep, totalSteps);
  }

  /** Reports that {@code step} steps are done; {@code loss} is NaN when not fetched this step. */
  public void update(long step, double loss, double lr) {
    if (!Double.isNaN(loss)) {
      lastLoss = loss;
    }
    long now = System.nanoTime();
    boolean last = step >= total;
    if (terminal) {
      if (!last && now - lastPrint < 250_000_000L) {
        return;
      }
      out.print("\r" + render(step, lastLoss, lr, now) + (last ? "\n" : ""));
      out.flush();
      midLine = !last;
    } else {
      long tenth = Math.max(1, (total - first) / 10);
      boolean due = (step - first) / tenth != (lastLogged - first) / tenth || now - lastPrint > 60_000_000_000L;
      if (!last && !due) {
        return;
      }
      out.println(render(step, lastLoss, lr, now));
      lastLogged = step;
    }
    lastPrint = now;
  }

  /** Shows {@code label value} on every later line, e.g. the latest FD under its network's name. */
  public void score(String label, double value) {
    score = String.format(Locale.ROOT, "  %s %.4g", label, value);
  }

  /** Prints a message on a line of its own, below the progress line when one is being redrawn. */
  public void note(String message) {
    out.println((midLine ? "\n" : "") + message);
    midLine = false;
  }

  String render(long step, double loss, double lr, long now) {
    double seconds = (now - startNanos) / 1e9;
    double rate = seconds > 0 ? (step - first) / seconds : 0;
    int filled = (int) Math.min(WIDTH, WIDTH * step / Math.max(1, total));
    String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
    String left = rate > 0 ? format(Duration.ofSeconds((long) ((total - step) / rate))) : "--:--";
    return String.format(Locale.ROOT, "step %d/%d [%s] loss %s  lr %.2e%s  %.2f steps/s  %s left",
        step, total, bar, Double.isNaN(loss) ? "-" : String.format(Locale.ROOT, "%.4f", loss), lr, score, rate, left);
  }

  static String format(Duration d) {
    long s = d.getSeconds();
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
