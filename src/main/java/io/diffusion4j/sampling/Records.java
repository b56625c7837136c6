package io.diffusion4j.sampling;

import io.diffusion4j.nn.Value;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * A solver's coefficients and state are records of {@link Value}s, named as in its paper; the
 * drivers move them in and out of graphs through these, component by component.
 */
final class Records {
  private Records() {}

  /** The component names, in declaration order. */
  static List<String> names(Class<? extends Record> type) {
    List<String> names = new ArrayList<>();
    for (RecordComponent c : type.getRecordComponents()) {
      names.add(c.getName());
    }
    return names;
  }

  /** The values of {@code record}, in declaration order. */
  static List<Value> values(Record record) {
    List<Value> values = new ArrayList<>();
    for (RecordComponent c : record.getClass().getRecordComponents()) {
      try {
        values.add((Value) c.getAccessor().invoke(record));
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read " + record.getClass().getSimpleName() + "." + c.getName(), e);
      }
    }
    return values;
  }

  /** A record of {@code type} made of {@code values}, in declaration order. */
  static <R extends Record> R of(Class<R> type, List<Value> values) {
    RecordComponent[] components = type.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      if (types[i] != Value.class) {
        throw new IllegalArgumentException(type.getSimpleName() + "." + components[i].getName() + " is not a Value");
      }
    }
    try {
      Constructor<R> constructor = type.getDeclaredConstructor(types);
      constructor.setAccessible(true);
      return constructor.newInstance(values.toArray());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot make a " + type.getSimpleName(), e);
    }
  }
}
