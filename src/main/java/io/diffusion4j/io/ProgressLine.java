package io.diffusion4j.io;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/**
 * A one-line progress display for work counted in units (training steps, images): count, bar,
 * what the caller adds (the loss, say), units per second and time left. On a terminal the line
 * redraws itself at most four times a second; in a log (no console) it prints a new line every
 * tenth of the work or every minute, whichever comes first. Work that ends within two seconds
 * prints nothing.
 */
public final class ProgressLine {
  private static final int WIDTH = 24;
  private static final long QUIET_NANOS = 2_000_000_000L;

  private final PrintWriter out;
  private final boolean terminal;
  private final String unit;
  private final long first;
  private final long total;
  private final long startNanos = System.nanoTime();
  private long lastPrint;
  private long lastLogged = -1;
  private boolean midLine;
  private boolean shown;

  /**
   * @param unit what is counted, plural ("steps", "images")
   * @param first the count already done when this display starts (a resumed run's step)
   */
  public ProgressLine(PrintWriter out, boolean terminal, String unit, long first, long total) {
    this.out = out;
    this.terminal = terminal;
    this.unit = unit;
    this.first = first;
    this.total = total;
  }

  public ProgressLine(PrintStream out, boolean terminal, String unit, long first, long total) {
    this(new PrintWriter(out, true), terminal, unit, first, total);
  }

  /** A display on standard error, redrawn in place when standard error is a terminal. */
  public static ProgressLine onStandardError(String unit, long first, long total) {
    return new ProgressLine(System.err, System.console() != null, unit, first, total);
  }

  /** Reports that {@code done} units are done; {@code details} (may be empty) follows the bar. */
  public void update(long done, String details) {
    long now = System.nanoTime();
    boolean last = done >= total;
    if (!shown && now - startNanos < QUIET_NANOS) {
      return;
    }
    if (terminal) {
      if (!last && now - lastPrint < 250_000_000L) {
        return;
      }
      out.print("\r" + render(done, details, now) + (last ? "\n" : ""));
      out.flush();
      midLine = !last;
    } else {
      long tenth = Math.max(1, (total - first) / 10);
      boolean due = !shown || (done - first) / tenth != (lastLogged - first) / tenth || now - lastPrint > 60_000_000_000L;
      if (!last && !due) {
        return;
      }
      out.println(render(done, details, now));
      lastLogged = done;
    }
    shown = true;
    lastPrint = now;
  }

  /** Prints a message on a line of its own, below the progress line when one is being redrawn. */
  public void note(String message) {
    out.println((midLine ? "\n" : "") + message);
    out.flush();
    midLine = false;
  }

  String render(long done, String details, long now) {
    double seconds = (now - startNanos) / 1e9;
    double rate = seconds > 0 ? (done - first) / seconds : 0;
    int filled = (int) Math.min(WIDTH, WIDTH * done / Math.max(1, total));
    String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
    String left = rate > 0 ? format(Duration.ofSeconds((long) ((total - done) / rate))) : "--:--";
    String singular = unit.endsWith("s") ? unit.substring(0, unit.length() - 1) : unit;
    return String.format(Locale.ROOT, "%s %d/%d [%s]%s  %.2f %s/s  %s left", singular, done, total, bar,
        details.isEmpty() ? "" : " " + details, rate, unit, left);
  }

  static String format(Duration d) {
    long s = d.getSeconds();
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
