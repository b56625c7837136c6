package io.diffusion4j.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Config records to and from config.json with no code per option. An option is declared once:
 * its builder field holds its default (the field's name, camelCase, is the reference's
 * snake_case key), the record's canonical constructor checks it, and the record component of the
 * same name carries it. Reading fills a builder from the JSON object (a list option also takes a
 * bare value, as the reference's cast_tuple does); writing turns the record's components back
 * into JSON; the command line takes the same declarations ({@link #options}).
 */
public final class ConfigRecords {
  private ConfigRecords() {}

  /** The config.json key when it is not the camelCase name in snake_case (EDM's P_mean, S_churn). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.FIELD)
  public @interface Key {
    String value();
  }

  /** What an option means, for the command line's help. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.FIELD)
  public @interface Doc {
    String value();
  }

  /** Other command-line names of an option (--batch-size for --train-batch-size). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.FIELD)
  public @interface Alias {
    String[] value();
  }

  /** A record component that is not an option of its own (the rank, which the type name gives). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.RECORD_COMPONENT)
  public @interface Internal {}

  /** An enum of choices known in config.json by its configName(). */
  public interface Choice {
    String configName();
  }

  /** An option as the builder declares it. */
  public record Declared(Field field, String key, String doc, List<String> aliases) {
    /** Its command-line name: the key in kebab case. */
    public String cliName() {
      return "--" + key.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public Class<?> type() {
      return field.getType();
    }

    /** The element type of a list option, else null. */
    public Class<?> elementType() {
      return element(field.getGenericType());
    }

    public Object get(Object builder) {
      try {
        return field.get(builder);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }

    public void set(Object builder, Object value) {
      try {
        field.set(builder, value);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** The options of a builder class: its fields but the static and transient ones, in order. */
  public static List<Declared> options(Class<?> builderType) {
    List<Declared> out = new ArrayList<>();
    for (Field f : builderType.getDeclaredFields()) {
      int m = f.getModifiers();
      if (Modifier.isStatic(m) || Modifier.isTransient(m)) {
        continue;
      }
      f.setAccessible(true);
      Key key = f.getAnnotation(Key.class);
      Doc doc = f.getAnnotation(Doc.class);
      Alias alias = f.getAnnotation(Alias.class);
      out.add(new Declared(f, key != null ? key.value() : snake(f.getName()), doc == null ? "" : doc.value(),
          alias == null ? List.of() : List.of(alias.value())));
    }
    return out;
  }

  /** camelCase to snake_case: learnedSinusoidalDim to learned_sinusoidal_dim, lrTRef to lr_t_ref. */
  public static String snake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replaceAll("([A-Z])([A-Z][a-z])", "$1_$2")
        .toLowerCase(Locale.ROOT);
  }

  /**
   * Fills {@code builder} with every option {@code o} holds (others keep their defaults); the
   * keys {@code skip} names are the caller's to read. Unknown keys are left to {@code o.finish()}.
   */
  public static <B> B read(JsonOptions o, B builder, String... skip) {
    List<String> skipped = Arrays.asList(skip);
    for (Declared d : options(builder.getClass())) {
      if (!skipped.contains(d.key()) && o.has(d.key())) {
        d.set(builder, value(o, d));
      }
    }
    return builder;
  }

  private static Object value(JsonOptions o, Declared d) {
    String key = d.key();
    Class<?> t = d.type();
    if (t == int.class || t == Integer.class) {
      return o.getIntOrNull(key);
    }
    if (t == long.class || t == Long.class) {
      return o.getLong(key);
    }
    if (t == double.class || t == Double.class) {
      return o.getDouble(key, 0);
    }
    if (t == boolean.class || t == Boolean.class) {
      return o.getBool(key, false);
    }
    if (t == String.class) {
      return o.getString(key, null);
    }
    if (Choice.class.isAssignableFrom(t)) {
      return choice(t, o.getString(key, null), o, key);
    }
    if (t == List.class) {
      Class<?> e = d.elementType();
      if (e == Integer.class) {
        return Arrays.stream(o.getInts(key, null)).boxed().toList();
      }
      if (e == Boolean.class) {
        boolean[] b = o.getBools(key, null);
        List<Boolean> list = new ArrayList<>();
        for (boolean v : b) {
          list.add(v);
        }
        return List.copyOf(list);
      }
      if (e == Double.class) {
        return Arrays.stream(o.getDoubles(key)).boxed().toList();
      }
      if (e == String.class) {
        return List.of(o.getStrings(key, null, "a string or a list of strings"));
      }
    }
    throw new IllegalStateException("no JSON reading for " + d.field() + " of type " + t);
  }

  /** The constant of an enum of choices named {@code name} in config.json. */
  public static Object choice(Class<?> type, String name, JsonOptions o, String key) {
    List<String> names = new ArrayList<>();
    for (Object c : type.getEnumConstants()) {
      String n = ((Choice) c).configName();
      if (n.equals(name)) {
        return c;
      }
      names.add(n);
    }
    throw o.bad(key, "\"" + name + "\"", String.join(", ", names));
  }

  /** Sets every option of {@code builder} to the value of {@code r}'s component of the same name. */
  public static <B> B copy(Record r, B builder) {
    for (Declared d : options(builder.getClass())) {
      try {
        d.set(builder, r.getClass().getMethod(d.field().getName()).invoke(r));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("no component " + d.field().getName() + " in " + r.getClass().getSimpleName(), e);
      }
    }
    return builder;
  }

  /**
   * The record's options as JSON, in declaration order, under the keys its builder declares;
   * null values are written as null.
   */
  public static JsonObject write(Record r, Class<?> builderType) {
    java.util.Map<String, String> keys = new java.util.HashMap<>();
    options(builderType).forEach(d -> keys.put(d.field().getName(), d.key()));
    JsonObject j = new JsonObject();
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      if (c.isAnnotationPresent(Internal.class)) {
        continue;
      }
      try {
        j.add(keys.getOrDefault(c.getName(), snake(c.getName())), json(c.getAccessor().invoke(r)));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read " + c, e);
      }
    }
    return j;
  }

  /** A value as JSON: numbers, booleans, strings, choices by their config name, lists of these. */
  public static JsonElement json(Object v) {
    if (v == null) {
      return JsonNull.INSTANCE;
    }
    if (v instanceof Number n) {
      return new JsonPrimitive(n);
    }
    if (v instanceof Boolean b) {
      return new JsonPrimitive(b);
    }
    if (v instanceof String s) {
      return new JsonPrimitive(s);
    }
    if (v instanceof Choice c) {
      return new JsonPrimitive(c.configName());
    }
    if (v instanceof List<?> list) {
      JsonArray a = new JsonArray();
      list.forEach(e -> a.add(json(e)));
      return a;
    }
    throw new IllegalArgumentException("no JSON for " + v.getClass().getSimpleName() + " " + v);
  }

  private static Class<?> element(Type type) {
    if (type instanceof ParameterizedType p && p.getActualTypeArguments().length == 1
        && p.getActualTypeArguments()[0] instanceof Class<?> c) {
      return c;
    }
    return null;
  }
}
