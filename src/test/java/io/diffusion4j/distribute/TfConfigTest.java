package io.diffusion4j.distribute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** TF_CONFIG as TensorFlow defines it, and one clear line for each way it can be wrong. */
class TfConfigTest {

  @Test
  void readsTheClusterAndTask() {
    TfConfig c = TfConfig.parse(
        "{\"cluster\": {\"worker\": [\"host0:2222\", \"host1:2223\"]}, \"task\": {\"type\": \"worker\", \"index\": 1}}");
    assertEquals(List.of("host0:2222", "host1:2223"), c.workers());
    assertEquals(1, c.index());
    assertEquals(2, c.numWorkers());
    assertEquals(2223, c.port());
    assertTrue(!c.isChief());
  }

  @Test
  void unsetOrBlankMeansOneProcess() {
    assertEquals(Optional.empty(), TfConfig.fromEnvironment(Map.of()));
    assertEquals(Optional.empty(), TfConfig.fromEnvironment(Map.of("TF_CONFIG", "  ")));
  }

  @Test
  void badConfigurationsAreNamed() {
    String cluster = "\"cluster\": {\"worker\": [\"a:1\", \"b:2\"]}";
    assertError("not valid JSON", "{cluster");
    assertError("task.index 2 is out of range: the cluster has 2 workers (0 to 1)",
        "{" + cluster + ", \"task\": {\"type\": \"worker\", \"index\": 2}}");
    assertError("task.index must be an integer", "{" + cluster + ", \"task\": {\"type\": \"worker\", \"index\": 0.5}}");
    assertError("task.type must be \"worker\"", "{" + cluster + ", \"task\": {\"type\": \"chief\", \"index\": 0}}");
    assertError("cluster.ps is not supported", "{\"cluster\": {\"worker\": [\"a:1\"], \"ps\": [\"c:3\"]},"
        + " \"task\": {\"type\": \"worker\", \"index\": 0}}");
    assertError("\"a\" is not host:port", "{\"cluster\": {\"worker\": [\"a\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}");
    assertError("cluster.worker lists no workers", "{\"cluster\": {\"worker\": []}, \"task\": {\"type\": \"worker\", \"index\": 0}}");
    assertError("cluster must be a JSON object", "{\"task\": {\"type\": \"worker\", \"index\": 0}}");
  }

  private static void assertError(String expected, String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfConfig.parse(text));
    assertTrue(e.getMessage().startsWith("TF_CONFIG: "), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
