package io.diffusion4j.runtime;

import java.util.function.Consumer;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;

/**
 * The session runs of training and evaluation go through {@link #run}, so that a profiler can
 * collect TensorFlow's per-op step statistics of exactly the runs a user's program makes: inside
 * {@link #collect} each run asks for a full trace and hands its metadata over; outside, a run is
 * a plain {@code Runner.run()}.
 */
public final class Tracing {
  private static final RunOptions FULL_TRACE = RunOptions.newBuilder()
      .setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
  private static final ThreadLocal<Consumer<RunMetadata>> SINK = new ThreadLocal<>();

  private Tracing() {}

  public static Result run(Session.Runner runner) {
    Consumer<RunMetadata> sink = SINK.get();
    if (sink == null) {
      return runner.run();
    }
    Result result = runner.setOptions(FULL_TRACE).runAndFetchMetadata();
    result.getMetadata().ifPresent(sink);
    return result;
  }

  /** Runs {@code body} on this thread, handing the metadata of every traced run to {@code sink}. */
  public static void collect(Consumer<RunMetadata> sink, Runnable body) {
    Consumer<RunMetadata> outer = SINK.get();
    SINK.set(sink);
    try {
      body.run();
    } finally {
      SINK.set(outer);
    }
  }
}
