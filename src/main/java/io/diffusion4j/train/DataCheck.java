package io.diffusion4j.train;

import io.diffusion4j.data.Dataset;
import io.diffusion4j.distribute.Cluster;
import io.diffusion4j.pipeline.ModelConfig;
import java.util.Arrays;

/** Refuses data a run cannot train on, before anything is built: said in the options' and the config's terms. */
final class DataCheck {
  private DataCheck() {}

  /**
   * The data's examples have the model's shape, fill a batch, carry labels in range for a
   * class-conditional model; on a cluster (null: alone), the batch splits evenly over the workers.
   */
  static void check(ModelConfig config, Dataset data, TrainerOptions options, Cluster cluster) {
    if (cluster != null && options.trainBatchSize() % cluster.config().numWorkers() != 0) {
      throw new IllegalArgumentException("train_batch_size = " + options.trainBatchSize() + " does not split evenly"
          + " over the " + cluster.config().numWorkers() + " workers of TF_CONFIG: the batch is the global one, each"
          + " worker takes an equal share");
    }
    long[] expected = config.sampleShape();
    if (!Arrays.equals(data.exampleShape(), expected)) {
      throw new IllegalArgumentException("the data's examples are " + Arrays.toString(data.exampleShape())
          + " but the model makes " + Arrays.toString(expected) + " (channels-last; see image_size/seq_length"
          + " and channels in config.json)");
    }
    if (data.size() < options.trainBatchSize()) {
      throw new IllegalArgumentException("too few examples for a batch: " + data.size() + " examples, train_batch_size "
          + options.trainBatchSize());
    }
    int classes = config.network().numClasses();
    if (classes > 0) {
      int[] labels = data.labels();
      if (labels == null) {
        throw new IllegalArgumentException("the model is class-conditional (num_classes = " + classes + ") but the data"
            + " has no labels: give an idx file with its labels file beside it, or an image folder with one sub-folder"
            + " per class");
      }
      int max = Arrays.stream(labels).max().orElse(0);
      if (max >= classes) {
        throw new IllegalArgumentException("the data has class label " + max + " but num_classes = " + classes);
      }
    }
  }
}
