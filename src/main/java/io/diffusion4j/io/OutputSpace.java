package io.diffusion4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Refuses, before anything is written, an output whose size is known in advance and exceeds the
 * free space of the folder it goes to: a command asked for terabytes ends at once with both sizes
 * instead of filling the disk for hours. The output is written beside the file it replaces (see
 * {@link AtomicFiles}), so an existing file frees nothing.
 */
public final class OutputSpace {
  private OutputSpace() {}

  /**
   * Checks that {@code bytes} fit in the folder of {@code target} (its nearest existing ancestor
   * when the folder is still to be made); {@code arguments} are the options that ask for the
   * output as the user gave them, as "--num 2000000000 --out s.npy".
   */
  public static void check(String arguments, Path target, long bytes) throws IOException {
    Path folder = existingFolder(target);
    check(arguments, bytes, folder, Files.getFileStore(folder).getUsableSpace());
  }

  /** As {@link #check(String, Path, long)} with the free space of {@code folder} given. */
  static void check(String arguments, long bytes, Path folder, long free) {
    if (bytes > free) {
      throw new IllegalArgumentException(arguments + " would write " + size(bytes) + ", more than the " + size(free)
          + " free in " + folder);
    }
  }

  /** The bytes of {@code count} items of {@code itemBytes} each plus {@code extra}, Long.MAX_VALUE when that overflows. */
  public static long bytes(long count, long itemBytes, long extra) {
    try {
      return Math.addExact(Math.multiplyExact(count, itemBytes), extra);
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /** {@code bytes} in decimal units with three significant digits: "512 B", "6.27 TB". */
  public static String size(long bytes) {
    String[] units = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = bytes;
    int u = 0;
    while (v >= 999.5 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    if (u == 0) {
      return bytes + " B";
    }
    return String.format(Locale.ROOT, v >= 99.95 ? "%.0f %s" : v >= 9.995 ? "%.1f %s" : "%.2f %s", v, units[u]);
  }

  private static Path existingFolder(Path target) {
    Path folder = target.toAbsolutePath().normalize().getParent();
    while (folder != null && !Files.isDirectory(folder)) {
      folder = folder.getParent();
    }
    return folder == null ? target.toAbsolutePath().getRoot() : folder;
  }
}
