package io.diffusion4j.eval;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** SHA-256 fingerprints of network files, so that cached statistics never outlive the weights they came from. */
final class Hashes {
  private Hashes() {}

  static String ofFile(Path file) throws IOException {
    Hasher h = Hashing.sha256().newHasher();
    add(h, file);
    return h.hash().toString();
  }

  /** Every regular file below {@code dir}, by relative path and content. */
  static String ofFolder(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    Hasher h = Hashing.sha256().newHasher();
    for (Path f : files) {
      h.putString(dir.relativize(f).toString().replace('\\', '/'), StandardCharsets.UTF_8).putByte((byte) 0);
      add(h, f);
    }
    return h.hash().toString();
  }

  private static void add(Hasher h, Path file) throws IOException {
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        h.putBytes(buf, 0, n);
      }
    }
  }
}
