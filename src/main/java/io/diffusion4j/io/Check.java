package io.diffusion4j.io;

import java.util.Arrays;

/**
 * The checks of config records, each with one wording: "{@code name = value} must be ...", where
 * the name is the option's config.json key (the command line rewrites it to its flag).
 */
public final class Check {

  private Check() {}

  public static void atLeast(String name, long value, long min) {
    if (value < min) {
      throw new IllegalArgumentException(name + " = " + value + " must be at least " + min);
    }
  }

  /** Also refuses NaN. */
  public static void positive(String name, double value) {
    if (!(value > 0)) {
      throw new IllegalArgumentException(name + " = " + value + " must be > 0");
    }
  }

  /** Also refuses NaN. */
  public static void nonNegative(String name, double value) {
    if (!(value >= 0)) {
      throw new IllegalArgumentException(name + " = " + value + " must be >= 0");
    }
  }

  /** {@code value} in [lo, hi], or [lo, hi) when {@code hiOpen}. */
  public static void within(String name, double value, double lo, double hi, boolean hiOpen) {
    if (!(value >= lo && (hiOpen ? value < hi : value <= hi))) {
      throw new IllegalArgumentException(name + " = " + value + " must be in [" + format(lo) + ", " + format(hi)
          + (hiOpen ? ")" : "]"));
    }
  }

  public static void even(String name, long value) {
    if (value % 2 != 0) {
      throw new IllegalArgumentException(name + " = " + value + " must be even");
    }
  }

  public static void oneOf(String name, String value, String... allowed) {
    if (!Arrays.asList(allowed).contains(value)) {
      throw new IllegalArgumentException(name + " = \"" + value + "\" is not allowed: expected "
          + String.join(" or ", allowed));
    }
  }

  private static String format(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
