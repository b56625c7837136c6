package io.diffusion4j.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.TreeSet;

/** Where two JSON documents first differ, for messages that say which option does. */
public final class JsonDifference {
  private JsonDifference() {}

  /**
   * The first key path (sorted by key, e.g. {@code model.dim (16 there, 32 here)}) at which
   * {@code there} and {@code here} differ, or null when they are equal.
   */
  public static String first(JsonObject there, JsonObject here) {
    return first("", there, here);
  }

  private static String first(String prefix, JsonObject there, JsonObject here) {
    TreeSet<String> keys = new TreeSet<>(there.keySet());
    keys.addAll(here.keySet());
    for (String key : keys) {
      JsonElement a = there.get(key);
      JsonElement b = here.get(key);
      if (a != null && b != null && a.isJsonObject() && b.isJsonObject()) {
        String inner = first(prefix + key + ".", a.getAsJsonObject(), b.getAsJsonObject());
        if (inner != null) {
          return inner;
        }
      } else if (a == null || !a.equals(b)) {
        return prefix + key + " (" + (a == null ? "not set" : a) + " there, " + (b == null ? "not set" : b) + " here)";
      }
    }
    return null;
  }
}
