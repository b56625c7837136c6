package io.diffusion4j.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Whole-file writes that readers see either complete or not at all: a crash or an exception
 * while saving a checkpoint or a sample must never leave a truncated file, nor destroy the
 * previous version.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /**
   * Temporary files and folders being written. When the JVM ends before they are renamed into
   * place (SIGTERM, Ctrl-C, System.exit), a shutdown hook removes them: nothing partial is left.
   */
  private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::removePending, "diffusion4j-remove-temporaries"));
  }

  private static void removePending() {
    // the writing thread may still add files to a folder while it is removed: a few passes
    for (int pass = 0; pass < 3 && !PENDING.isEmpty(); pass++) {
      for (Path p : PENDING) {
        try {
          deleteTree(p);
          PENDING.remove(p);
        } catch (IOException | RuntimeException e) {
          // tried again in the next pass
        }
      }
    }
  }

  /**
   * Creates a temporary folder in {@code dir} that is removed if the JVM ends while it exists;
   * rename it into place or delete it, then {@link #settled} it.
   */
  public static Path createTempDirectory(Path dir, String prefix) throws IOException {
    Path tmp = Files.createTempDirectory(dir, prefix);
    PENDING.add(tmp);
    return tmp;
  }

  /** {@code tmp} (from {@link #createTempDirectory}) has been renamed or deleted: the shutdown hook leaves it alone. */
  public static void settled(Path tmp) {
    PENDING.remove(tmp);
  }

  /**
   * Writes {@code target} through {@code writer}: the bytes go to a hidden temporary file in the
   * same directory, which is synced and then renamed over the target. On any failure the
   * temporary file is removed and an existing target is left untouched. Missing parent
   * directories are created.
   */
  public static void write(Path target, IOConsumer<OutputStream> writer) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IOException("cannot write " + target + ": cannot create the folder " + dir + " ("
          + reason(e) + ")", e);
    }
    Path tmp = dir.resolve("." + abs.getFileName() + ".tmp-"
        + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
    FileChannel channel;
    PENDING.add(tmp);
    try {
      channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException e) {
      PENDING.remove(tmp);
      throw new IOException("cannot write " + target + ": cannot create a file in " + dir + " (" + reason(e) + ")", e);
    }
    try {
      try (channel; OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16)) {
        writer.accept(out);
        out.flush();
        channel.force(true);
      }
      move(tmp, abs);
    } catch (Throwable t) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        t.addSuppressed(e);
      }
      throw t;
    } finally {
      PENDING.remove(tmp);
    }
    syncDirectory(dir);
  }

  /** What the file system said, without the exception's type or the temporary file's name. */
  private static String reason(IOException e) {
    if (e instanceof FileAlreadyExistsException) {
      return "a file of that name is in the way";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "it cannot hold new files";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? "refused" : e.getMessage();
  }

  /** Writes {@code text} as UTF-8. */
  public static void writeString(Path target, String text) throws IOException {
    writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
  }

  public static void writeBytes(Path target, byte[] bytes) throws IOException {
    write(target, out -> out.write(bytes));
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Makes the rename durable where the platform allows syncing a directory (not on Windows). */
  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Best effort: the file itself is already synced and in place.
    }
  }

  /** Deletes a file or a folder with everything in it; nothing happens when it does not exist. */
  public static void deleteTree(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
