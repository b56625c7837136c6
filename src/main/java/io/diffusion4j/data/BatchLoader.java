package io.diffusion4j.data;

import io.diffusion4j.io.FloatArray;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Training batches [batchSize, ...exampleShape], decoded ahead on background threads so that a
 * training step need not wait for files.
 *
 * <p>Batch k holds the examples at positions k * batchSize ... of the shuffled stream defined by
 * {@link ExampleOrder}: every example once per epoch, in an order that depends only on the seed.
 * So a run resumed at batch k with {@code start(k)} sees exactly the batches an uninterrupted run
 * would. With horizontal flipping, image examples ([H, W, C]) are mirrored along the width for
 * about half of the positions; sequences are never flipped.
 *
 * <p>Use: {@code start(firstBatch)}, then {@code next()} returns batches firstBatch,
 * firstBatch + 1, ... in order; {@code close()} stops the threads. Each thread decodes whole
 * batches; at most {@code queueCapacity} batches are decoded or being decoded ahead of the
 * consumer, so more threads than that would idle. A decoding error is thrown by the
 * {@code next()} that would have returned its batch, and by every later call.
 */
public final class BatchLoader implements AutoCloseable {
  private static final long CLOSE_WAIT_MILLIS = 1000;

  private final Dataset data;
  private final int batchSize;
  /** This loader's rows of each whole batch: positions rowOffset ... rowOffset + batchSize - 1 of wholeBatch. */
  private final int wholeBatch;
  private final int rowOffset;
  private final boolean flip;
  private final int threads;
  private final ExampleOrder order;
  private final int[] labels;
  private final long[] exampleShape;
  private final int exampleLength;

  /** Finished batches by index: a FloatArray, or the Throwable that stopped it. Guarded by itself. */
  private final Map<Long, Object> ready = new HashMap<>();
  private final AtomicLong nextToDecode = new AtomicLong();
  private final Semaphore room;
  private final List<Thread> workers = new ArrayList<>();
  private long nextToReturn = -1;
  private volatile boolean closed;

  /**
   * A loader over {@code data}; nothing is read before {@link #start}. {@code threads} and
   * {@code queueCapacity} must be at least 1, and the dataset must hold at least one batch.
   */
  public BatchLoader(Dataset data, int batchSize, long seed, boolean horizontalFlip, int threads,
      int queueCapacity) {
    this(data, batchSize, 0, 1, seed, horizontalFlip, threads, queueCapacity);
  }

  /**
   * A loader of share {@code share} of {@code shares} of each batch of {@code batchSize}: the
   * rows one worker of a cluster trains on. The shares of one batch are disjoint and together
   * are the batch a single loader gives; {@code shares} must divide {@code batchSize}.
   */
  public BatchLoader(Dataset data, int batchSize, int share, int shares, long seed, boolean horizontalFlip,
      int threads, int queueCapacity) {
    if (shares < 1 || share < 0 || share >= shares || batchSize % shares != 0) {
      throw new IllegalArgumentException("a batch of " + batchSize + " does not split into " + shares
          + " equal shares");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (threads < 1 || queueCapacity < 1) {
      throw new IllegalArgumentException("need at least 1 thread and a queue of at least 1 batch, got "
          + threads + " threads, queue capacity " + queueCapacity);
    }
    if (data.size() < batchSize) {
      throw new IllegalArgumentException("too few examples for a batch: " + data.size()
          + " examples, batch size " + batchSize);
    }
    this.data = data;
    this.wholeBatch = batchSize;
    this.batchSize = batchSize / shares;
    this.rowOffset = share * this.batchSize;
    this.exampleShape = data.exampleShape();
    this.flip = horizontalFlip && exampleShape.length == 3;
    this.threads = threads;
    this.order = new ExampleOrder(data.size(), seed);
    this.labels = data.labels();
    this.exampleLength = data.exampleLength();
    this.room = new Semaphore(queueCapacity);
  }

  /** Starts decoding from batch {@code firstBatch} on; call once. */
  public void start(long firstBatch) {
    if (firstBatch < 0) {
      throw new IllegalArgumentException("first batch must be >= 0, got " + firstBatch);
    }
    synchronized (ready) {
      if (nextToReturn >= 0 || closed) {
        throw new IllegalStateException(closed ? "the loader is closed" : "the loader was already started");
      }
      nextToReturn = firstBatch;
      nextToDecode.set(firstBatch);
      for (int i = 0; i < threads; i++) {
        Thread t = new Thread(this::work, "batch-loader-" + i);
        t.setDaemon(true);
        workers.add(t);
        t.start();
      }
    }
  }

  /** The next batch in index order, waiting for it if it is still being decoded. */
  public FloatArray next() throws IOException {
    long k;
    Object result;
    synchronized (ready) {
      if (nextToReturn < 0) {
        throw new IllegalStateException("call start(firstBatch) before next()");
      }
      k = nextToReturn;
      // closed is checked before any result: a worker interrupted by close() may have stored one
      while (closed || !ready.containsKey(k)) {
        if (closed) {
          throw new IllegalStateException("the loader is closed");
        }
        try {
          ready.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for batch " + k);
        }
      }
      result = ready.get(k);
      if (result instanceof Throwable e) {
        // Left in place so that every later call fails the same way instead of waiting forever.
        String why = e.getMessage() != null ? e.getMessage() : e.toString();
        throw new IOException("cannot load batch " + k + ": " + why, e);
      }
      ready.remove(k);
      nextToReturn++;
    }
    room.release();
    return (FloatArray) result;
  }

  /** Batch {@code batchIndex}, decoded on the calling thread: what {@link #next} returns for it. */
  public FloatArray batch(long batchIndex) throws IOException {
    float[] out = new float[batchSize * exampleLength];
    for (int i = 0; i < batchSize; i++) {
      long g = position(batchIndex, i);
      data.read(order.index(g), out, i * exampleLength);
      if (flip && order.flip(g)) {
        mirror(out, i * exampleLength);
      }
    }
    long[] shape = new long[exampleShape.length + 1];
    shape[0] = batchSize;
    System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
    return new FloatArray(shape, out);
  }

  /** The dataset indices of batch {@code batchIndex}'s examples, in batch order. */
  public int[] indices(long batchIndex) {
    int[] idx = new int[batchSize];
    for (int i = 0; i < batchSize; i++) {
      idx[i] = order.index(position(batchIndex, i));
    }
    return idx;
  }

  /** The class labels of batch {@code batchIndex}'s examples, or null when the dataset has none. */
  public int[] labels(long batchIndex) {
    if (labels == null) {
      return null;
    }
    int[] idx = indices(batchIndex);
    for (int i = 0; i < idx.length; i++) {
      idx[i] = labels[idx[i]];
    }
    return idx;
  }

  /** One more than the largest label, or 0 when the dataset has no labels. */
  public int numClasses() {
    int max = -1;
    for (int label : labels == null ? new int[0] : labels) {
      max = Math.max(max, label);
    }
    return max + 1;
  }

  /** Whether the example at stream position {@code g} is delivered mirrored. */
  boolean flipped(long g) {
    return flip && order.flip(g);
  }

  /** Stops the threads; a waiting {@link #next} fails. Returns within about a second. */
  @Override
  public void close() {
    closed = true;
    synchronized (ready) {
      ready.notifyAll();
    }
    workers.forEach(Thread::interrupt);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
    try {
      for (Thread t : workers) {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private long position(long batchIndex, int i) {
    return Math.addExact(Math.multiplyExact(batchIndex, wholeBatch), rowOffset + i);
  }

  /** Decodes batches in claim order until closed; the semaphore bounds how far ahead. */
  private void work() {
    try {
      while (!closed) {
        room.acquire();
        long k = nextToDecode.getAndIncrement();
        Object result;
        try {
          result = batch(k);
        } catch (Throwable e) {
          result = e; // handed to next(): a dead thread would leave it waiting forever
        }
        synchronized (ready) {
          ready.put(k, result);
          ready.notifyAll();
        }
      }
    } catch (InterruptedException e) {
      // close() asked us to stop
    }
  }

  /** Mirrors the [H, W, C] example at {@code offset} along its width. */
  private void mirror(float[] x, int offset) {
    int h = (int) exampleShape[0];
    int w = (int) exampleShape[1];
    int c = (int) exampleShape[2];
    for (int y = 0; y < h; y++) {
      int row = offset + y * w * c;
      for (int a = 0, b = w - 1; a < b; a++, b--) {
        for (int ch = 0; ch < c; ch++) {
          float t = x[row + a * c + ch];
          x[row + a * c + ch] = x[row + b * c + ch];
          x[row + b * c + ch] = t;
        }
      }
    }
  }
}
