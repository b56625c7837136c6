package io.diffusion4j.distribute;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GetCode;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_Message;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetTarget;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.ConfigProto;

/**
 * A {@link Session} connected to a TensorFlow server ("grpc://host:port") instead of the
 * in-process runtime. TensorFlow Java 1.1.0's public Session constructors always make a local
 * session, though its C API takes a target (TF_SetTarget); this shim makes the native session
 * with a target and wraps it through Session's package-private constructor. Remove it when
 * TensorFlow Java gains a public way to set the target.
 */
final class RemoteSession {
  private RemoteSession() {}

  static Session connect(Graph graph, String target, ConfigProto config) {
    TF_Status status = TF_NewStatus();
    TF_SessionOptions options = TF_NewSessionOptions();
    try {
      TF_SetTarget(options, target);
      byte[] bytes = config.toByteArray();
      TF_SetConfig(options, new BytePointer(bytes), bytes.length, status);
      check(status, target);
      TF_Session session = TF_NewSession(nativeHandle(graph), options, status);
      check(status, target);
      Constructor<Session> wrap = Session.class.getDeclaredConstructor(Graph.class, TF_Session.class);
      wrap.setAccessible(true);
      return wrap.newInstance(graph, session);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("this TensorFlow Java cannot make a session on a server: " + e.getMessage(), e);
    } finally {
      TF_DeleteSessionOptions(options);
      TF_DeleteStatus(status);
    }
  }

  private static TF_Graph nativeHandle(Graph graph) throws ReflectiveOperationException {
    Field f = Graph.class.getDeclaredField("nativeHandle");
    f.setAccessible(true);
    return (TF_Graph) f.get(graph);
  }

  private static void check(TF_Status status, String target) {
    if (TF_GetCode(status) != 0) {
      throw new IllegalStateException("cannot open a session on " + target + ": " + TF_Message(status).getString());
    }
  }
}
