package io.diffusion4j.io;

import java.io.IOException;

/** A consumer that may throw {@link IOException}, so file writers need no exception wrapping. */
@FunctionalInterface
public interface IOConsumer<T> {
  void accept(T t) throws IOException;
}
