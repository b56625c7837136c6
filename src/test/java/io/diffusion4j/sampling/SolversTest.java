package io.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The catalogue: unique names, the old name as an alias, clear refusals, and the README's table made from it. */
class SolversTest {

  @Test
  void namesAreUniqueAndTheOldNameIsAnAlias() {
    Set<String> names = new HashSet<>();
    for (Solver<?, ?> s : Solvers.all()) {
      assertTrue(names.add(s.name()), "twice: " + s.name());
      assertSame(s, Solvers.named(s.name()));
      assertTrue(Records.names(s.state()).get(0).equals("x"), s.name() + " carries the sample first");
    }
    assertSame(Solvers.named("dpmpp_2m"), Solvers.named("dpmpp"));
    var e = assertThrows(IllegalArgumentException.class, () -> Solvers.named("plms"));
    assertTrue(e.getMessage().contains("sampler plms is not allowed: expected ddpm, ddim, euler"), e.getMessage());
  }

  @Test
  void theReadmeTableIsTheCatalogues() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    String table = readme.substring(readme.indexOf("<!-- samplers:begin -->\n") + 24, readme.indexOf("<!-- samplers:end -->"));
    assertEquals(Solvers.markdownTable(), table, "regenerate the README's table from Solvers.markdownTable()");
  }
}
