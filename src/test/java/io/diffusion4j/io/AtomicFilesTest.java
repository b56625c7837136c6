package io.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir Path dir;

  private List<Path> listing() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  @Test
  void writesAndReplaces() throws IOException {
    Path target = dir.resolve("a/b/c.txt");
    AtomicFiles.writeString(target, "first é");
    assertEquals("first é", Files.readString(target));
    AtomicFiles.writeBytes(target, new byte[] {1, 2, 3});
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
    try (Stream<Path> s = Files.list(target.getParent())) {
      assertEquals(List.of(target), s.toList());
    }
  }

  @Test
  void failingWriterLeavesNothingBehind() throws IOException {
    Path target = dir.resolve("t.bin");
    assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
      out.write(new byte[100_000]);
      throw new IOException("disk full");
    }));
    assertEquals(List.of(), listing());

    AtomicFiles.writeString(target, "old");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> AtomicFiles.write(target, out -> {
          out.write("new".getBytes());
          throw new IllegalStateException("bug");
        }));
    assertEquals("bug", e.getMessage());
    assertEquals("old", Files.readString(target));
    assertEquals(List.of(target), listing());
  }

  @Test
  void unusableParentIsNamed() throws IOException {
    Path file = dir.resolve("plain");
    Files.writeString(file, "x");
    Path target = file.resolve("child.txt");
    IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(target, "y"));
    assertTrue(e.getMessage().contains(target.toString()), e.getMessage());
  }
}
