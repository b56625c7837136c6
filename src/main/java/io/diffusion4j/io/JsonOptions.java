package io.diffusion4j.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed reads from one JSON object of options (a config.json section), each defaulting as the
 * Python reference does, with errors that name the key, the value and what is allowed. Keys
 * never read are reported by {@link #finish()}, so a typo never passes silently.
 */
public final class JsonOptions {
  private final String section;
  private final JsonObject json;
  private final Set<String> read = new LinkedHashSet<>();

  public JsonOptions(String section, JsonObject json) {
    this.section = section;
    this.json = json;
  }

  /** The section's name in the document ("model", "diffusion", "trainer"). */
  public String section() {
    return section;
  }

  public boolean has(String key) {
    read.add(key);
    JsonElement e = json.get(key);
    return e != null && !e.isJsonNull();
  }

  public int getInt(String key, int dflt) {
    return has(key) ? toInt(key, json.get(key)) : dflt;
  }

  public Integer getIntOrNull(String key) {
    return has(key) ? toInt(key, json.get(key)) : null;
  }

  public double getDouble(String key, double dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = json.get(key);
    if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber())) {
      throw bad(key, e, "a number");
    }
    return e.getAsDouble();
  }

  /** An integer that may exceed int's range (seeds, step counts). */
  public Long getLong(String key) {
    if (!has(key)) {
      return null;
    }
    JsonElement e = json.get(key);
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      double d = e.getAsDouble();
      if (d == Math.rint(d) && Math.abs(d) < 0x1p63) {
        return e.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
      }
    }
    throw bad(key, e, "an integer");
  }

  /** A list of numbers; a bare number is a list of one. */
  public double[] getDoubles(String key) {
    JsonElement e = get(key);
    JsonArray a = asList(e);
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement x = a.get(i);
      if (!(x.isJsonPrimitive() && x.getAsJsonPrimitive().isNumber())) {
        throw bad(key, e, "a number or a list of numbers");
      }
      out[i] = x.getAsDouble();
    }
    return out;
  }

  public boolean getBool(String key, boolean dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = json.get(key);
    if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean())) {
      throw bad(key, e, "true or false");
    }
    return e.getAsBoolean();
  }

  public String getString(String key, String dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = json.get(key);
    if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isString())) {
      throw bad(key, e, "a string");
    }
    return e.getAsString();
  }

  /** A list of ints (a JSON array); a bare int is accepted as a list of one when allowed. */
  public int[] getInts(String key, int[] dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = json.get(key);
    if (e.isJsonPrimitive()) {
      return new int[] {toInt(key, e)};
    }
    if (!e.isJsonArray()) {
      throw bad(key, e, "a list of integers");
    }
    JsonArray a = e.getAsJsonArray();
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = toInt(key, a.get(i));
    }
    return out;
  }

  /** A list of booleans; a bare boolean is a list of one. */
  public boolean[] getBools(String key, boolean[] dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = json.get(key);
    JsonArray a = asList(e);
    boolean[] out = new boolean[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement x = a.get(i);
      if (!(x.isJsonPrimitive() && x.getAsJsonPrimitive().isBoolean())) {
        throw bad(key, e, "true, false or a list of them");
      }
      out[i] = x.getAsBoolean();
    }
    return out;
  }

  /** A list of strings; a bare string is a list of one. {@code allowed} describes the values for errors. */
  public String[] getStrings(String key, String[] dflt, String allowed) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = json.get(key);
    JsonArray a = asList(e);
    String[] out = new String[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement x = a.get(i);
      if (!(x.isJsonPrimitive() && x.getAsJsonPrimitive().isString())) {
        throw bad(key, e, allowed);
      }
      out[i] = x.getAsString();
    }
    return out;
  }

  private static JsonArray asList(JsonElement e) {
    if (e.isJsonArray()) {
      return e.getAsJsonArray();
    }
    JsonArray a = new JsonArray();
    a.add(e);
    return a;
  }

  /** The raw element, for options whose type depends on their value. */
  public JsonElement get(String key) {
    read.add(key);
    return json.get(key);
  }

  /** Fails when the object holds a key that no read asked for. */
  public void finish() {
    TreeSet<String> unknown = new TreeSet<>(json.keySet());
    unknown.removeAll(read);
    if (!unknown.isEmpty()) {
      throw new Invalid(section + "." + unknown.first(), section + ": unknown option " + String.join(", ", unknown)
          + "; allowed: " + String.join(", ", read));
    }
  }

  public Invalid bad(String key, Object value, String allowed) {
    return new Invalid(section + "." + key, section + "." + key + " = " + value + " is not allowed: expected " + allowed);
  }

  /** A bad or unknown option, with its place in the document ({@code model.dim}) for locating it. */
  public static final class Invalid extends IllegalArgumentException {
    private final String path;

    public Invalid(String path, String message) {
      super(message);
      this.path = path;
    }

    public String path() {
      return path;
    }
  }

  private int toInt(String key, JsonElement e) {
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      double d = e.getAsDouble();
      if (d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) {
        return (int) d;
      }
    }
    throw bad(key, e, "an integer");
  }

  /** A JSON array of ints. */
  public static JsonArray array(int... values) {
    JsonArray a = new JsonArray();
    for (int v : values) {
      a.add(new JsonPrimitive(v));
    }
    return a;
  }
}
