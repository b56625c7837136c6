package io.diffusion4j.runtime;

import java.util.Optional;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT as a request to stop at the next safe point rather than at once: a
 * preemptible machine sends SIGTERM some seconds before it kills, time enough for a training run
 * to checkpoint the step it is at. Once {@link #catchTermAndInt} is called, the first of these
 * signals only records the request, which a long loop polls at its boundaries; a second one ends
 * the process as the JVM would have (shutdown hooks run, exit status 128 + the signal's number).
 * Without the call, the JVM's own handling stands.
 */
public final class StopRequest {
  private static volatile Signal received;

  private StopRequest() {}

  /** Catches SIGTERM and SIGINT from now on; where one cannot be caught (-Xrs, ignored, no such signal) it is left alone. */
  public static synchronized void catchTermAndInt() {
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(new Signal(name), StopRequest::receive);
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        // the platform or the JVM's options keep this signal: it does what it did before
      }
    }
  }

  private static void receive(Signal signal) {
    if (received == null) {
      received = signal;
    } else {
      // asked twice: stop now
      Runtime.getRuntime().exit(128 + signal.getNumber());
    }
  }

  /** The signal that asked to stop ("SIGTERM", "SIGINT"), once one has. */
  public static Optional<String> received() {
    Signal s = received;
    return s == null ? Optional.empty() : Optional.of("SIG" + s.getName());
  }

  /** The exit status the shells give a process that the received signal ended: 128 + its number (143, 130). */
  public static int exitStatus() {
    Signal s = received;
    return s == null ? 0 : 128 + s.getNumber();
  }
}
