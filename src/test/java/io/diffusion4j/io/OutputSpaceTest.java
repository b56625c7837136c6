package io.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An output that cannot fit is refused before it is written, with both sizes and the folder. */
class OutputSpaceTest {
  @TempDir
  Path dir;

  @Test
  void refusesWhatExceedsTheFreeSpaceNamingBothSizesAndTheFolder() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> OutputSpace.check("--num 2000000000 --out s.npy", 6_272_000_000_128L, dir, 79_500_000_000L));
    assertEquals("--num 2000000000 --out s.npy would write 6.27 TB, more than the 79.5 GB free in " + dir,
        e.getMessage());
    OutputSpace.check("--out s.npy", 1000, dir, 1000);
  }

  /** The folder still to be made is measured at its nearest existing ancestor; nothing is created. */
  @Test
  void measuresTheNearestExistingFolder() throws IOException {
    Path target = dir.resolve("a/b/s.npy");
    OutputSpace.check("--out " + target, target, 1);
    var e = assertThrows(IllegalArgumentException.class, () -> OutputSpace.check("--out " + target, target,
        Long.MAX_VALUE));
    assertEquals("--out " + target + " would write 9.22 EB, more than the "
        + OutputSpace.size(Files.getFileStore(dir).getUsableSpace()) + " free in " + dir.toRealPath(),
        e.getMessage().replace(dir.toAbsolutePath().normalize().toString(), dir.toRealPath().toString()));
    assertEquals(false, Files.exists(dir.resolve("a")));
  }

  @Test
  void sizesAreHumanReadable() {
    assertEquals("0 B", OutputSpace.size(0));
    assertEquals("999 B", OutputSpace.size(999));
    assertEquals("1.00 kB", OutputSpace.size(1000));
    assertEquals("1.50 MB", OutputSpace.size(1_500_000));
    assertEquals("79.5 GB", OutputSpace.size(79_500_000_000L));
    assertEquals("250 GB", OutputSpace.size(249_999_000_000L));
    assertEquals("6.27 TB", OutputSpace.size(6_272_000_000_128L));
  }

  @Test
  void byteCountsThatOverflowAreAsLargeAsCanBe() {
    assertEquals(Long.MAX_VALUE, OutputSpace.bytes(Long.MAX_VALUE / 2, 4, 0));
    assertEquals(6_272_000_000_128L, OutputSpace.bytes(2_000_000_000L, 784 * 4, 128));
  }
}
