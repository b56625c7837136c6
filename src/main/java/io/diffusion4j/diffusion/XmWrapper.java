package io.diffusion4j.diffusion;

import com.google.gson.JsonObject;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.JsonOptions;
import io.diffusion4j.nn.BatchWindow;
import io.diffusion4j.nn.Forward;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The reference's XMWrapper (forward explorative modelling, Gladstone et al.): each example is
 * noised {@code candidates} times at one shared time, with noise of each candidate's own, and
 * trains on the candidate of least loss. It changes training only; the wrapped diffusion
 * samples as it would alone. The candidates are evaluated in network calls of at most
 * {@code max_batch_size} rows (whole copies of the batch; all at once when null), which changes
 * nothing but memory: every draw is the same however they are grouped.
 *
 * @param maxBatchSize null for one call
 */
public record XmWrapper(int candidates, Integer maxBatchSize) {
  public static final String TYPE = "XMWrapper";

  public XmWrapper {
    Check.atLeast("wrapper.candidates", candidates, 1);
    if (maxBatchSize != null) {
      Check.atLeast("wrapper.max_batch_size", maxBatchSize, 1);
    }
  }

  /** Reads config.json's top-level "wrapper" section. */
  public static XmWrapper fromJson(JsonOptions o) {
    String type = o.getString("type", null);
    if (!TYPE.equals(type)) {
      throw o.bad("type", type == null ? "(missing)" : "\"" + type + "\"", TYPE);
    }
    XmWrapper w = new XmWrapper(o.has("candidates") ? o.getInt("candidates", 1) : 1, o.getIntOrNull("max_batch_size"));
    o.finish();
    return w;
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    j.addProperty("type", TYPE);
    j.addProperty("candidates", candidates);
    if (maxBatchSize != null) {
      j.addProperty("max_batch_size", maxBatchSize);
    }
    return j;
  }

  /**
   * The mean over examples of the least loss among each example's candidates.
   *
   * @param rows the rows of one batch, which a call of {@code max_batch_size} rows must hold
   *     whole; 0 when unknown (then with max_batch_size each call takes one copy)
   */
  public Operand<TFloat32> loss(Diffusion d, Ops tf, Operand<TFloat32> images, Operand<TInt64> classLabels,
      Operand<TInt64> seed, BatchWindow window, int rows, boolean selfConditionStep) {
    int perCall = candidates;
    if (maxBatchSize != null && rows == 0) {
      perCall = 1;
    } else if (maxBatchSize != null) {
      if (maxBatchSize < rows) {
        throw new IllegalArgumentException("wrapper.max_batch_size = " + maxBatchSize + " cannot hold one candidate of"
            + " each of the batch's " + rows + " examples: raise it to at least " + rows + " or lower the batch size");
      }
      perCall = Math.min(candidates, maxBatchSize / rows);
    }
    List<Operand<TFloat32>> losses = new ArrayList<>();
    for (int first = 0; first < candidates; first += perCall) {
      int count = Math.min(perCall, candidates - first);
      BatchWindow w = window.copies(first, count, candidates);
      losses.add(d.losses(tf, copies(tf, images, count), classLabels == null ? null : copies(tf, classLabels, count),
          seed, w, selfConditionStep, Forward.training(seed, w)));
    }
    return leastPerExample(tf, losses.size() == 1 ? losses.get(0) : tf.concat(losses, tf.constant(0)), candidates);
  }

  /** The mean over examples of each one's least loss, from losses [candidates x N] candidate by candidate. */
  public static Operand<TFloat32> leastPerExample(Ops tf, Operand<TFloat32> losses, int candidates) {
    Operand<TFloat32> byCandidate = tf.reshape(losses, tf.constant(new long[] {candidates, -1}));
    return tf.math.mean(tf.min(byCandidate, tf.constant(0)), tf.constant(0));
  }

  /** {@code count} copies of a batch, one after the other. */
  private static <T extends TType> Operand<T> copies(Ops tf, Operand<T> batch, int count) {
    if (count == 1) {
      return batch;
    }
    int[] multiples = new int[batch.shape().numDimensions()];
    Arrays.fill(multiples, 1);
    multiples[0] = count;
    return tf.tile(batch, tf.constant(multiples));
  }
}
