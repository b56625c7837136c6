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
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.immutables.value.Value;

/**
 * Config types to and from config.json with no code per option. An option is declared once, as a
 * method of the config's interface: its name (camelCase, the reference's snake_case key), its
 * type, its default (a {@code @Value.Default} method's body; a plain abstract method is required)
 * and its doc; the interface's {@code @Value.Check} checks it. Immutables generates the
 * implementation ({@code ImmutableX}) with its builder at compile time. Reading fills that builder
 * from a JSON object (a list option also takes a bare value, as the reference's cast_tuple does);
 * writing turns the options back into JSON; the command line takes the same declarations
 * ({@link #options}).
 */
public final class ConfigRecords {
  private ConfigRecords() {}

  /** The style of every config type: plain JDK collections, whatever else is on the class path. */
  @Value.Style(jdkOnly = true)
  @Target(ElementType.TYPE)
  @Retention(RetentionPolicy.CLASS)
  public @interface Config {}

  /** The config.json key when it is not the camelCase name in snake_case (EDM's P_mean, S_churn). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  public @interface Key {
    String value();
  }

  /** What an option means, for the command line's help. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  public @interface Doc {
    String value();
  }

  /** Other command-line names of an option (--batch-size for --train-batch-size). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  public @interface Alias {
    String[] value();
  }

  /** A value that is not an option of its own (the rank, which the type name gives). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  public @interface Internal {}

  /** An option that may be null (none given), as the reference's None. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target({ElementType.METHOD, ElementType.FIELD, ElementType.PARAMETER})
  public @interface Nullable {}

  /** An enum option's name in config.json and on the command line: its constant's, in lower case. */
  public static String configName(Enum<?> choice) {
    return choice.name().toLowerCase(Locale.ROOT);
  }

  /** The names of {@code type}'s constants, joined as "a, b or c". */
  public static String choices(Class<?> type) {
    List<String> names = Arrays.stream(type.getEnumConstants()).map(c -> configName((Enum<?>) c)).toList();
    return names.size() == 1 ? names.get(0)
        : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
  }

  /**
   * The constant of the enum {@code type} named {@code name} in config.json; else an error naming
   * {@code key}, the value and what is allowed.
   */
  public static <E> E choice(Class<E> type, String key, String name) {
    for (E c : type.getEnumConstants()) {
      if (configName((Enum<?>) c).equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException(key + " = \"" + name + "\" is not allowed: expected " + choices(type));
  }

  /** An option as its config type declares it. */
  public record Declared(Method accessor, String key, String doc, List<String> aliases) {
    /** Its command-line name: the key in kebab case. */
    public String cliName() {
      return "--" + key.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public Class<?> type() {
      return accessor.getReturnType();
    }

    /** The element type of a list option, else null. */
    public Class<?> elementType() {
      return element(accessor.getGenericReturnType());
    }

    /** Its value in {@code config}. */
    public Object get(Object config) {
      try {
        return accessor.invoke(config);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Gives it {@code value} in {@code builder}, the generated builder of its config type. */
    public void set(Object builder, Object value) {
      String name = accessor.getName();
      Class<?> param = type() == List.class ? Iterable.class : type();
      try {
        builder.getClass().getMethod(name, param).invoke(builder, value);
      } catch (InvocationTargetException e) {
        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("no setter " + name + " in " + builder.getClass().getName(), e);
      }
    }
  }

  /**
   * The options of a config type (or of its generated implementation or builder), in declaration
   * order (the order of the generated implementation's fields), but the internal ones.
   */
  public static List<Declared> options(Class<?> type) {
    Class<?> configType = configType(type);
    Class<?> impl;
    try {
      impl = Class.forName(configType.getPackageName() + ".Immutable" + configType.getSimpleName(), false,
          configType.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(configType.getName() + " has no generated implementation", e);
    }
    List<Declared> out = new ArrayList<>();
    for (Field f : impl.getDeclaredFields()) {
      int m = f.getModifiers();
      if (Modifier.isStatic(m) || Modifier.isTransient(m)) {
        continue;
      }
      Method a;
      try {
        a = configType.getMethod(f.getName());
      } catch (NoSuchMethodException e) {
        throw new IllegalStateException(e);
      }
      if (a.isAnnotationPresent(Internal.class)) {
        continue;
      }
      Key key = a.getAnnotation(Key.class);
      Doc doc = a.getAnnotation(Doc.class);
      Alias alias = a.getAnnotation(Alias.class);
      out.add(new Declared(a, key != null ? key.value() : snake(a.getName()), doc == null ? "" : doc.value(),
          alias == null ? List.of() : List.of(alias.value())));
    }
    return out;
  }

  /** The config interface that {@code type} is, implements (ImmutableX) or builds (X.Builder). */
  private static Class<?> configType(Class<?> type) {
    if (type.isInterface()) {
      return type;
    }
    Class<?> outer = type.getEnclosingClass();
    if (outer != null && outer.isInterface()) {
      return outer;
    }
    return (outer != null ? outer : type).getInterfaces()[0];
  }

  /** camelCase to snake_case: learnedSinusoidalDim to learned_sinusoidal_dim, lrTRef to lr_t_ref. */
  public static String snake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replaceAll("([A-Z])([A-Z][a-z])", "$1_$2")
        .toLowerCase(Locale.ROOT);
  }

  /**
   * Fills {@code builder}, a config type's builder, with every option {@code o} holds (others keep
   * their defaults); the keys {@code skip} names are the caller's to read. Unknown keys are left
   * to {@code o.finish()}.
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

  /**
   * {@link #read} then build: the config {@code o} describes, or an error that names its section
   * ("model: dim = 0 ...").
   */
  @SuppressWarnings("unchecked")
  public static <T> T build(JsonOptions o, Object builder, String... skip) {
    read(o, builder, skip);
    try {
      return (T) builder.getClass().getMethod("build").invoke(builder);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof IllegalArgumentException bad) {
        throw new IllegalArgumentException(o.section() + ": " + bad.getMessage(), bad);
      }
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
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
    if (t.isEnum()) {
      String name = o.getString(key, null);
      try {
        return choice(t, key, name);
      } catch (IllegalArgumentException e) {
        throw o.bad(key, "\"" + name + "\"", choices(t));
      }
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
    throw new IllegalStateException("no JSON reading for " + d.accessor() + " of type " + t);
  }

  /** A config.json section's start: its type. */
  public static JsonObject typed(String type) {
    JsonObject j = new JsonObject();
    j.addProperty("type", type);
    return j;
  }

  /** The options of {@code config} as JSON in declaration order, after {@code head}'s; null values as null. */
  public static JsonObject write(Object config, JsonObject head) {
    JsonObject j = head.deepCopy();
    for (Declared d : options(config.getClass())) {
      j.add(d.key(), json(d.get(config)));
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
    if (v instanceof Enum<?> c) {
      return new JsonPrimitive(configName(c));
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
