package io.diffusion4j.train;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.SessionLog;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

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
  private final Placeholder<TUint8> image;
  private final Placeholder<TString> event;
  private final Op writeScalar;
  private final Op writeImage;
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
    image = tf.placeholder(TUint8.class, Placeholder.shape(Shape.of(1, -1, -1, -1)));
    event = tf.placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    writeScalar = tf.summary.writeScalarSummary(writer, step, tag, value);
    writeImage = tf.summary.writeImageSummary(writer, step, tag, image, tf.constant(new byte[] {(byte) 255, 0, 0, (byte) 255}));
    writeEvent = tf.summary.importEvent(writer, event);
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

  /** An image as TensorBoard shows it: grey, RGB or RGBA as the image has 1, 3 or 4 bands. */
  public void image(long stepValue, String name, BufferedImage picture) {
    int w = picture.getWidth();
    int h = picture.getHeight();
    int bands = picture.getRaster().getNumBands();
    int[] samples = picture.getRaster().getPixels(0, 0, w, h, (int[]) null);
    byte[] bytes = new byte[samples.length];
    for (int i = 0; i < samples.length; i++) {
      bytes[i] = (byte) samples[i];
    }
    try (TInt64 s = TInt64.scalarOf(stepValue); TString t = TString.scalarOf(name);
        TUint8 img = TUint8.tensorOf(Shape.of(1, h, w, bands), DataBuffers.of(bytes, true, false))) {
      session.runner().feed(step, s).feed(tag, t).feed(image, img).addTarget(writeImage).run();
    }
  }

  /**
   * Marks a restart at {@code stepValue}: TensorBoard then drops what an earlier run of the same
   * folder logged after that step (a resumed run repeats those steps).
   */
  public void restart(long stepValue) {
    Event e = Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0).setStep(stepValue)
        .setSessionLog(SessionLog.newBuilder().setStatus(SessionLog.SessionStatus.START)).build();
    try (TString t = TString.tensorOfBytes(org.tensorflow.ndarray.NdArrays.scalarOfObject(e.toByteArray()))) {
      session.runner().feed(event, t).addTarget(writeEvent).run();
    }
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
