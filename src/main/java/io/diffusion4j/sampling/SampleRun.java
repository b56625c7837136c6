package io.diffusion4j.sampling;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.models.Network;
import io.diffusion4j.models.NetworkConfig;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.nn.Upstream;
import java.io.IOException;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * A sampling run of any number of images in bounded memory: batch by batch, each batch handed on
 * as soon as it is done. Image {@code i} starts from its own noise (the sampler's draw for index
 * {@code i}, or row {@code i} of a given array) and takes its own per-step noise, so the images
 * do not depend on the batch size.
 */
public final class SampleRun {
  /** Activation memory one batch may take by default, summed over every tensor of an evaluation. */
  static final long ACTIVATION_BUDGET = 1L << 30;
  static final int MAX_DEFAULT_BATCH = 1024;

  /** The start noise of images {@code first} .. {@code first + n - 1}, when it is not the sampler's own draw. */
  public interface Noise {
    FloatArray rows(long first, int n) throws IOException;
  }

  /** The class labels of images {@code first} .. {@code first + n - 1} (class-conditional networks). */
  public interface Labels {
    long[] of(long first, int n);
  }

  /**
   * This process's part of a run shared by several workers: worker {@code index} of
   * {@code count} samples its contiguous share of the rows of every batch, and {@code combine}
   * turns a batch holding this worker's rows (zeros elsewhere) into the whole batch.
   */
  public record Share(int index, int count, Combine combine) {}

  /** The whole batch from every worker's part of it. */
  public interface Combine {
    FloatArray apply(FloatArray mine) throws IOException;
  }

  /** Receives each finished batch: images {@code first} .. {@code first + images.shape()[0] - 1}. */
  public interface Batch {
    void accept(long first, FloatArray images) throws IOException;
  }

  private SampleRun() {}

  /**
   * Samples {@code num} images, {@code batchSize} at a time.
   *
   * @param noise null to draw the start noise from the seed
   * @param labels null for unconditional networks
   */
  public static void run(DiffusionSampler sampler, Settings settings, long num, int batchSize, Noise noise,
      Labels labels, Batch out) throws IOException {
    run(sampler, settings, num, batchSize, noise, labels, null, out);
  }

  /**
   * As {@link #run(DiffusionSampler, Settings, long, int, Noise, Labels, Batch)}, this process
   * sampling only its share of each batch when {@code share} is not null; every worker receives
   * every whole batch.
   */
  public static void run(DiffusionSampler sampler, Settings settings, long num, int batchSize, Noise noise,
      Labels labels, Share share, Batch out) throws IOException {
    if (num < 1 || batchSize < 1) {
      throw new IllegalArgumentException("num = " + num + " and batch size = " + batchSize + " must be at least 1");
    }
    for (long first = 0; first < num; first += batchSize) {
      int n = (int) Math.min(batchSize, num - first);
      out.accept(first, batch(sampler, settings, first, n, noise, labels, share));
    }
  }

  /**
   * Images {@code first} .. {@code first + n - 1} of a run; with a share, this worker draws only
   * its rows and the share puts the batch together.
   *
   * @throws OutOfMemory when the batch does not fit
   */
  public static FloatArray batch(DiffusionSampler sampler, Settings settings, long first, int n, Noise noise,
      Labels labels, Share share) throws IOException {
    if (share == null) {
      return sample(sampler, settings, first, n, noise, labels);
    }
    int lo = (int) ((long) n * share.index() / share.count());
    int hi = (int) ((long) n * (share.index() + 1) / share.count());
    FloatArray mine = FloatArray.zeros(Tensors.batchShape(n, sampler.denoiser().sampleShape()));
    if (hi > lo) {
      float[] rows = sample(sampler, settings, first + lo, hi - lo, noise, labels).data();
      System.arraycopy(rows, 0, mine.data(), (int) ((long) lo * rows.length / (hi - lo)), rows.length);
    }
    return share.combine().apply(mine);
  }

  private static FloatArray sample(DiffusionSampler sampler, Settings settings, long first, int n, Noise noise,
      Labels labels) throws IOException {
    FloatArray start = noise != null ? noise.rows(first, n) : sampler.initialNoise(first, n, settings.seed());
    try {
      return sampler.sample(settings, start, first, labels == null ? null : labels.of(first, n));
    } catch (TFResourceExhaustedException e) {
      throw new OutOfMemory(n);
    }
  }

  /** A batch that did not fit in memory. */
  public static final class OutOfMemory extends IllegalStateException {
    private final int batch;

    OutOfMemory(int batch) {
      super("out of memory while sampling a batch of " + batch + " images: lower the batch size (--batch-size "
          + Math.max(1, batch / 4) + ", say)");
      this.batch = batch;
    }

    public int batch() {
      return batch;
    }
  }

  /**
   * A batch size whose activations fit {@link #ACTIVATION_BUDGET}: the bytes of every tensor of
   * one inference evaluation of the network, per example, from the graph's static shapes. An
   * overestimate of the peak (TensorFlow frees a tensor once its consumers have run), so the
   * batch fits comfortably.
   */
  public static int defaultBatchSize(NetworkConfig network, long[] example) {
    long perExample = Math.max(1, activationBytes(network, example));
    return (int) Math.max(1, Math.min(MAX_DEFAULT_BATCH, ACTIVATION_BUDGET / perExample));
  }

  /** Bytes per example of every batch-sized float tensor in one evaluation of the network. */
  static long activationBytes(NetworkConfig config, long[] example) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Network net = config.create(tf);
      Shape batch = Shape.of(Tensors.batchShape(-1, example));
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(batch));
      Placeholder<TFloat32> time = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TInt64> labels = net.numClasses() > 0 ? tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1))) : null;
      Operand<TFloat32> out = net.apply(tf, x, time, net.selfCondition() ? x : null, labels, Forward.inference());
      long bytes = 0;
      for (GraphOperation op : Upstream.of(List.of(out))) {
        for (int i = 0; i < op.numOutputs(); i++) {
          bytes += 4 * perExample(op.output(i).shape());
        }
      }
      return bytes;
    }
  }

  /** Elements per example of a batch-sized shape [-1, d...] with every d known, else 0. */
  private static long perExample(Shape s) {
    if (s.isUnknown() || s.numDimensions() < 2 || s.size(0) != -1) {
      return 0;
    }
    long n = 1;
    for (int d = 1; d < s.numDimensions(); d++) {
      if (s.size(d) < 0) {
        return 0;
      }
      n *= s.size(d);
    }
    return n;
  }
}
