package io.diffusion4j.eval;

import io.diffusion4j.io.AtomicFiles;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Conv;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Functional;
import io.diffusion4j.nn.Linear;
import io.diffusion4j.nn.ParamScope;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The offline feature network for 28x28 grey images: a small CNN trained by the project on the
 * labelled Fashion-MNIST training set ({@link ClassifierTraining}), shipped as the SavedModel
 * {@code saved_models/fashion-mnist-classifier/1} and inside the jar. Its scores are FD/KID in
 * its own feature space, printed under its name, never under "FID": they rank models on
 * Fashion-MNIST-like data but are not comparable with Inception FIDs.
 *
 * <pre>
 *   [N, 28, 28, 1] in [0, 1]
 *   conv1 3x3 -> 32, ReLU, max-pool 2    [N, 14, 14, 32]
 *   conv2 3x3 -> 64, ReLU, max-pool 2    [N, 7, 7, 64]     mean over 7x7: conv_features (64)
 *   fc 3136 -> 128, ReLU                 features (128), the penultimate layer
 *   dropout 0.3 (training only), out 128 -> 10 logits
 * </pre>
 */
public final class FashionMnistClassifier {
  public static final String NAME = "fashion-mnist-classifier-v1";
  public static final int SIZE = 28;
  public static final int CLASSES = 10;
  public static final double DROPOUT = 0.3;
  /** The shipped SavedModel's files, in the jar under this path. */
  static final String RESOURCE = "/saved_models/fashion-mnist-classifier/1/";
  static final List<String> FILES = List.of("saved_model.pb", "variables/variables.index",
      "variables/variables.data-00000-of-00001", SavedModelFeatures.INFO);

  private final Parameters parameters;
  private final Conv conv1;
  private final Conv conv2;
  private final Linear fc;
  private final Linear out;

  /** The layers of a graph's classifier, their variables created through {@code tf}. */
  public FashionMnistClassifier(Ops tf) {
    parameters = new Parameters(tf);
    ParamScope s = parameters.scope();
    conv1 = Conv.same(s.child("conv1"), 2, 1, 32, 3);
    conv2 = Conv.same(s.child("conv2"), 2, 32, 64, 3);
    fc = new Linear(s.child("fc"), 7 * 7 * 64, 128);
    out = new Linear(s.child("out"), 128, CLASSES);
  }

  public Parameters parameters() {
    return parameters;
  }

  /** The feature layers and the class logits of one forward pass. */
  public record Outputs(Operand<TFloat32> convFeatures, Operand<TFloat32> features, Operand<TFloat32> logits) {}

  /** The network on images [N, 28, 28, 1] in [0, 1]; {@code fwd} decides about dropout. */
  public Outputs apply(Ops tf, Operand<TFloat32> images, Forward fwd) {
    Operand<TFloat32> h = pool(tf, tf.nn.relu(conv1.apply(tf, images)));
    h = pool(tf, tf.nn.relu(conv2.apply(tf, h)));
    Operand<TFloat32> convFeatures = tf.math.mean(h, tf.constant(new int[] {1, 2}));
    Operand<TFloat32> features = tf.nn.relu(fc.apply(tf, tf.reshape(h, tf.constant(new long[] {-1, 7 * 7 * 64}))));
    Operand<TFloat32> logits = out.apply(tf, Functional.dropout(tf, features, DROPOUT, fwd));
    return new Outputs(convFeatures, features, logits);
  }

  private static Operand<TFloat32> pool(Ops tf, Operand<TFloat32> x) {
    Operand<TInt32> two = tf.constant(new int[] {1, 2, 2, 1});
    return tf.nn.maxPool(x, two, two, "VALID");
  }

  /**
   * The shipped classifier as a feature network: its penultimate layer (128 features), or with
   * {@code layer} 64 the mean of its last convolution.
   */
  public static FeatureNetwork open(Integer layer) throws IOException {
    Path dir = copyOut();
    try {
      // loading reads everything into memory: the copy can go at once
      return SavedModelFeatures.open(dir, layer);
    } finally {
      AtomicFiles.deleteTree(dir);
    }
  }

  /** The shipped classifier's 'classify' signature: the class it recognises in each image. */
  public static Recognizer recognizer() throws IOException {
    Path dir = copyOut();
    try {
      return new Recognizer(SavedModelBundle.load(dir.toString(), SavedModelBundle.DEFAULT_TAG));
    } finally {
      AtomicFiles.deleteTree(dir);
    }
  }

  /** The most likely class of 28x28 grey images in [0, 1], a batch at a time. */
  public static final class Recognizer implements AutoCloseable {
    private static final int BATCH = 250;
    private final SavedModelBundle bundle;
    private final Signature.TensorDescription input;
    private final Signature.TensorDescription logits;

    private Recognizer(SavedModelBundle bundle) {
      this.bundle = bundle;
      Signature sig = bundle.signatures().stream().filter(s -> s.key().equals("classify")).findFirst().orElseThrow();
      this.input = sig.getInputs().get("images");
      this.logits = sig.getOutputs().get("logits");
    }

    /** The class of each image [N, 28, 28, 1]. */
    public int[] classes(FloatArray images) {
      long[] shape = images.shape();
      if (shape.length != 4 || shape[1] != SIZE || shape[2] != SIZE || shape[3] != 1) {
        throw new IllegalArgumentException(NAME + " recognises 28x28 grey images [N, 28, 28, 1], not "
            + Arrays.toString(shape));
      }
      int n = (int) shape[0];
      int per = SIZE * SIZE;
      int[] out = new int[n];
      for (int first = 0; first < n; first += BATCH) {
        int b = Math.min(BATCH, n - first);
        FloatArray batch = new FloatArray(new long[] {b, SIZE, SIZE, 1},
            Arrays.copyOfRange(images.data(), first * per, (first + b) * per));
        try (TFloat32 x = Tensors.of(batch); Result r = bundle.session().runner().feed(input.name, x)
            .fetch(logits.name).run()) {
          float[] l = Tensors.toArray((TFloat32) r.get(0)).data();
          for (int i = 0; i < b; i++) {
            int best = 0;
            for (int k = 1; k < CLASSES; k++) {
              best = l[i * CLASSES + k] > l[i * CLASSES + best] ? k : best;
            }
            out[first + i] = best;
          }
        }
      }
      return out;
    }

    @Override
    public void close() {
      bundle.close();
    }
  }

  /** The shipped SavedModel copied out of the jar into a temporary folder. */
  private static Path copyOut() throws IOException {
    Path dir = Files.createTempDirectory("diffusion4j-classifier");
    try {
      for (String file : FILES) {
        try (InputStream in = FashionMnistClassifier.class.getResourceAsStream(RESOURCE + file)) {
          if (in == null) {
            throw new IOException("the built-in feature network " + NAME + " is missing from the build ("
                + RESOURCE + file + ")");
          }
          Path target = dir.resolve(file);
          Files.createDirectories(target.getParent());
          Files.copy(in, target);
        }
      }
      return dir;
    } catch (IOException | RuntimeException e) {
      AtomicFiles.deleteTree(dir);
      throw e;
    }
  }
}
