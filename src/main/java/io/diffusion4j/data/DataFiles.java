package io.diffusion4j.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/** File discovery shared by the folder-based datasets. */
final class DataFiles {
  private DataFiles() {}

  /** Fails with "... does not exist" when {@code path} is missing, so typos read clearly. */
  static void requireExists(Path path) throws IOException {
    if (!Files.exists(path)) {
      throw new IOException(path + " does not exist");
    }
  }

  /**
   * The regular files under {@code folder} (recursively, following links) whose extension is in
   * {@code extensions} (lower case, compared case-insensitively), sorted by their path relative
   * to the folder so that the order, and with it every shuffle, is the same on every machine.
   */
  static List<Path> find(Path folder, Set<String> extensions) throws IOException {
    requireExists(folder);
    if (!Files.isDirectory(folder)) {
      throw new IOException(folder + " is not a folder");
    }
    try (Stream<Path> walk = Files.walk(folder, FileVisitOption.FOLLOW_LINKS)) {
      return walk
          .filter(p -> extensions.contains(extension(p)) && Files.isRegularFile(p))
          .sorted(Comparator.comparing(p -> relative(folder, p)))
          .toList();
    } catch (UncheckedIOException e) {
      throw new IOException("cannot search " + folder + ": " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** The path below {@code folder} with '/' separators, e.g. "cats/001.png". */
  static String relative(Path folder, Path file) {
    return folder.relativize(file).toString().replace('\\', '/');
  }

  /** The lower-case extension without its dot, or "" when there is none. */
  static String extension(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
  }
}
