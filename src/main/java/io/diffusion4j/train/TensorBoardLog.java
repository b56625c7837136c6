package io.diffusion4j.train;

import com.google.protobuf.ByteString;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.SessionLog;
import org.tensorflow.proto.Summary;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/**
 * TensorBoard event files written by TensorFlow's own summary ops (the writer behind
 * {@code tf.summary} in Python): scalars and images under a log folder, in a graph and session
 * of their own so that the model's graph stays as it is. {@code tensorboard --logdir} reads them.
 */
public final class TensorBoardLog implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TInt64> step;
  private final Placeholder<TString> tag;
  private final Placeholder<TFloat32> value;
  private final Placeholder<TString> serialized;
  private final Op writeScalar;
  private final Op writeProto;
  private final Op writeEvent;
  private final Op flush;
  private final Op closeWriter;
  private boolean closed;

  /** Opens (creating it when needed) the log folder; every run writes a new event file there. */
  public TensorBoardLog(Path folder) throws IOException {
    Files.createDirectories(folder);
    Ops tf = Ops.create(graph);
    Operand<?> writer = tf.summary.summaryWriter();
    Op create = tf.summary.createSummaryFileWriter(writer, tf.constant(folder.toAbsolutePath().toString()),
        tf.constant(100), tf.constant(10_000), tf.constant(".diffusion4j"));
    step = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    tag = tf.placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    value = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    serialized = tf.placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    writeScalar = tf.summary.writeScalarSummary(writer, step, tag, value);
    // images go as Summary protos made here, so that the tag is the name given (the image op appends /image/0)
    writeProto = tf.summary.writeRawProtoSummary(writer, step, serialized);
    writeEvent = tf.summary.importEvent(writer, serialized);
    flush = tf.summary.flushSummaryWriter(writer);
    closeWriter = tf.summary.closeSummaryWriter(writer);
    session = new Session(graph);
    try {
      session.runner().addTarget(create).run();
    } catch (RuntimeException e) {
      session.close();
      graph.close();
      throw new IOException("cannot write TensorBoard logs in " + folder + ": " + e.getMessage(), e);
    }
  }

  /** One scalar per tag at {@code stepValue}, in the map's order. */
  public void scalars(long stepValue, Map<String, Double> values) {
    try (TInt64 s = TInt64.scalarOf(stepValue)) {
      for (Map.Entry<String, Double> e : values.entrySet()) {
        try (TString t = TString.scalarOf(e.getKey()); TFloat32 v = TFloat32.scalarOf(e.getValue().floatValue())) {
          session.runner().feed(step, s).feed(tag, t).feed(value, v).addTarget(writeScalar).run();
        }
      }
    }
  }

  /** An image under the tag {@code name}, PNG-encoded as the sample grids are (grey, RGB or RGBA). */
  public void image(long stepValue, String name, BufferedImage picture) throws IOException {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    if (!ImageIO.write(picture, "png", png)) {
      throw new IOException("no PNG writer available");
    }
    int bands = picture.getRaster().getNumBands();
    Summary summary = Summary.newBuilder().addValue(Summary.Value.newBuilder().setTag(name)
        .setImage(Summary.Image.newBuilder().setHeight(picture.getHeight()).setWidth(picture.getWidth())
            .setColorspace(bands).setEncodedImageString(ByteString.copyFrom(png.toByteArray())))).build();
    try (TInt64 s = TInt64.scalarOf(stepValue); TString proto = bytes(summary.toByteArray())) {
      session.runner().feed(step, s).feed(serialized, proto).addTarget(writeProto).run();
    }
  }

  /**
   * Marks a restart at {@code stepValue}: TensorBoard then drops what an earlier run of the same
   * folder logged after that step (a resumed run repeats those steps).
   */
  public void restart(long stepValue) {
    Event e = Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0).setStep(stepValue)
        .setSessionLog(SessionLog.newBuilder().setStatus(SessionLog.SessionStatus.START)).build();
    try (TString t = bytes(e.toByteArray())) {
      session.runner().feed(serialized, t).addTarget(writeEvent).run();
    }
  }

  private static TString bytes(byte[] value) {
    return TString.tensorOfBytes(NdArrays.scalarOfObject(value));
  }

  /** Writes what is queued to disk. */
  public void flush() {
    session.runner().addTarget(flush).run();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      session.runner().addTarget(closeWriter).run();
    } finally {
      session.close();
      graph.close();
    }
  }
}
