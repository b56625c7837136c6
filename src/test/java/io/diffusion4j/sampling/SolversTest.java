package io.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The catalogue: unique names, the old name as an alias, clear refusals, a config's own choice,
 * and the README's table made from it.
 */
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
  void aConfigNamesItsDefaultSamplerAndKeepsItThroughItsJson() {
    String unet = "{\"model\": {\"type\": \"Unet\", \"dim\": 4, \"dim_mults\": [1, 2], \"channels\": 1";
    String continuous = unet + ", \"learned_sinusoidal_cond\": true}, \"diffusion\": {\"image_size\": 8, \"channels\": 1, ";
    String gaussian = unet + "}, \"diffusion\": {\"type\": \"GaussianDiffusion\", \"image_size\": 8, \"sampling_timesteps\": 10";
    String edm = continuous + "\"type\": \"ElucidatedDiffusion\"";
    String simple = continuous + "\"type\": \"simple_diffusion.GaussianDiffusion\"";
    // each family's own choice without the key (the reference's), and the named one with it
    for (String[] c : new String[][] {{gaussian, "ddim"}, {edm, "heun"}, {simple, "ddpm"}}) {
      ModelConfig plain = ModelConfig.parse(c[0] + "}}");
      ModelConfig named = ModelConfig.parse(c[0] + ", \"sampler\": \"dpmpp\"}}");
      assertFalse(plain.toJson().getAsJsonObject("diffusion").has("sampler"), "the reference's configs stay as they were");
      assertEquals(named, ModelConfig.parse(named.toJsonString()));
      try (DiffusionModel a = DiffusionModel.create(plain, 1); DiffusionModel b = DiffusionModel.create(named, 1)) {
        assertSame(Solvers.named(c[1]), a.sampler().defaults(0).solver(), c[0]);
        assertSame(Solvers.named("dpmpp_2m"), b.sampler().defaults(0).solver(), c[0]);
      }
    }
    var e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(gaussian + ", \"sampler\": \"plms\"}}"));
    assertTrue(e.getMessage().startsWith("diffusion.sampler = \"plms\" is not allowed: expected one of ddpm, ddim"),
        e.getMessage());
  }

  @Test
  void theReadmeTableIsTheCatalogues() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    String table = readme.substring(readme.indexOf("<!-- samplers:begin -->\n") + 24, readme.indexOf("<!-- samplers:end -->"));
    assertEquals(Solvers.markdownTable(), table, "regenerate the README's table from Solvers.markdownTable()");
  }
}
