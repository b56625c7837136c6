package io.diffusion4j.io;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where each key of a JSON document sits, so that a message about an option can point into the
 * file: {@code model.dim} at "line 3, column 12". Keys inside arrays are not indexed.
 */
public final class JsonLocations {
  /** Gson's reader describes its position as "... at line L column C path ...". */
  private static final Pattern POSITION = Pattern.compile("line (\\d+) column (\\d+)");

  private JsonLocations() {}

  /** Key paths (dot-separated) to "line L, column C" of the end of the key; empty for text that is not JSON. */
  public static Map<String, String> of(String text) {
    Map<String, String> places = new HashMap<>();
    try (JsonReader r = new JsonReader(new StringReader(text))) {
      walk(r, "", places);
    } catch (IOException | RuntimeException e) {
      // a malformed document has no reliable places; the parser reports where it broke
    }
    return places;
  }

  private static void walk(JsonReader r, String prefix, Map<String, String> places) throws IOException {
    JsonToken t = r.peek();
    if (t == JsonToken.BEGIN_OBJECT) {
      r.beginObject();
      while (r.hasNext()) {
        String name = r.nextName();
        Matcher m = POSITION.matcher(r.toString());
        if (m.find()) {
          places.putIfAbsent(prefix + name, "line " + m.group(1) + ", column " + m.group(2));
        }
        walk(r, prefix + name + ".", places);
      }
      r.endObject();
    } else if (t == JsonToken.BEGIN_ARRAY) {
      r.beginArray();
      while (r.hasNext()) {
        r.skipValue();
      }
      r.endArray();
    } else {
      r.skipValue();
    }
  }
}
