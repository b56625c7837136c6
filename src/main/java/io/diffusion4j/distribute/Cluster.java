package io.diffusion4j.distribute;

import io.diffusion4j.runtime.Execution;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.regex.Pattern;
import org.tensorflow.Graph;
import org.tensorflow.Server;
import org.tensorflow.Session;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.JobDef;
import org.tensorflow.proto.ServerDef;

/**
 * This process's place in a TF_CONFIG cluster: its TensorFlow gRPC server, sessions on it, and a
 * watchdog over the other workers.
 *
 * <p>Each worker builds its own graph and runs it in a session on its own server (between-graph
 * replication, as TensorFlow's MultiWorkerMirroredStrategy does); the collective ops in those
 * graphs meet across servers. The group leader (task 0) must be in the server's default session
 * config, or every worker leads a group of its own and the collectives wait forever; the device
 * filter keeps each session's ops on its own task.
 *
 * <p>A collective that waits for a dead peer may never return, and after one fails every later
 * collective of the process fails too, so the watchdog ends the process when a peer stops
 * answering: the run then goes on with every worker restarted with {@code --resume}. TensorFlow's
 * server cannot be stopped ("Clean shutdown is not currently implemented"): it lives as long as
 * the process, which is the run.
 */
public final class Cluster implements AutoCloseable {
  /** How long a worker waits for the others to come up. */
  public static final Duration STARTUP = Duration.ofSeconds(120);
  /** A peer that refuses connections this long is taken for dead. */
  static final Duration DEAD_AFTER = Duration.ofSeconds(10);
  private static final int PROBE_MILLIS = 2000;
  private static final String LEADER = "/job:worker/replica:0/task:0";
  /** The "From /job:worker/replica:0/task:1:" that a server puts before the errors of the ops it ran. */
  private static final Pattern TASK_PREFIX =
      Pattern.compile("From /job:[^/]+/replica:\\d+/task:\\d+:");

  private final TfConfig config;
  private final ConfigProto sessionConfig;
  private final Thread watchdog;
  private volatile boolean closed;

  private Cluster(TfConfig config, PrintStream log) {
    this.config = config;
    this.sessionConfig = ConfigProto.newBuilder()
        .setExperimental(ConfigProto.Experimental.newBuilder().setCollectiveGroupLeader(LEADER))
        .addDeviceFilters("/job:worker/task:" + config.index())
        .build();
    this.watchdog = new Thread(() -> watch(log), "cluster-watchdog");
    watchdog.setDaemon(true);
  }

  /**
   * Starts this worker's server and waits until every other worker's answers (at most
   * {@link #STARTUP}); from then on a peer that stops answering ends this process.
   */
  public static Cluster join(TfConfig config, PrintStream log) {
    Cluster c = new Cluster(config, log);
    ClusterDef.Builder cluster = ClusterDef.newBuilder();
    JobDef.Builder job = JobDef.newBuilder().setName("worker");
    for (int i = 0; i < config.numWorkers(); i++) {
      job.putTasks(i, config.workers().get(i));
    }
    ServerDef def = ServerDef.newBuilder()
        .setCluster(cluster.addJob(job))
        .setJobName("worker")
        .setTaskIndex(config.index())
        .setProtocol("grpc")
        .setDefaultSessionConfig(c.sessionConfig)
        .build();
    Server server;
    try {
      server = new Server(def);
      server.start();
    } catch (RuntimeException e) {
      throw new IllegalStateException("TF_CONFIG: worker " + config.index() + " cannot listen on " + config.address()
          + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + STARTUP.toNanos();
    for (int i = 0; i < config.numWorkers(); i++) {
      while (i != config.index() && !answers(config.workers().get(i))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("TF_CONFIG: worker " + i + " (" + config.workers().get(i) + ") did not answer"
              + " within " + STARTUP.toSeconds() + " s; start every worker of the cluster");
        }
        sleep(500);
      }
    }
    c.watchdog.start();
    return c;
  }

  public TfConfig config() {
    return config;
  }

  public boolean isChief() {
    return config.isChief();
  }

  /** A session for {@code graph} on this worker's server. */
  public Session session(Graph graph) {
    return session(graph, Execution.CPU);
  }

  /** A session for {@code graph} on this worker's server, with {@code execution}'s rewrites and JIT level. */
  public Session session(Graph graph, Execution execution) {
    return RemoteSession.connect(graph, "grpc://localhost:" + config.port(), execution.configure(sessionConfig));
  }

  private void watch(PrintStream log) {
    long[] silentSince = new long[config.numWorkers()];
    while (!closed) {
      for (int i = 0; i < config.numWorkers(); i++) {
        if (i == config.index()) {
          continue;
        }
        long now = System.nanoTime();
        if (answers(config.workers().get(i))) {
          silentSince[i] = 0;
        } else if (silentSince[i] == 0) {
          silentSince[i] = now;
        } else if (now - silentSince[i] > DEAD_AFTER.toNanos() && !closed) {
          log.println("diffusion4j: worker " + i + " (" + config.workers().get(i) + ") stopped answering; worker "
              + config.index() + " stops too (start every worker again with --resume to go on from the last"
              + " checkpoint)");
          log.flush();
          Runtime.getRuntime().halt(3);
        }
      }
      sleep(PROBE_MILLIS);
    }
  }

  private static boolean answers(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1))),
          PROBE_MILLIS);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the other workers", e);
    }
  }

  /** A TensorFlow error message without the task prefixes that a server's errors carry. */
  public static String withoutTask(String message) {
    return TASK_PREFIX.matcher(message).replaceAll("");
  }

  /** Stops watching the peers; the server itself ends with the process. */
  @Override
  public void close() {
    closed = true;
  }
}
