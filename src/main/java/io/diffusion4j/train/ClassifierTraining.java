package io.diffusion4j.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.diffusion4j.data.BatchLoader;
import io.diffusion4j.data.Dataset;
import io.diffusion4j.eval.FashionMnistClassifier;
import io.diffusion4j.eval.SavedModelFeatures;
import io.diffusion4j.export.SavedModelExport;
import io.diffusion4j.io.AtomicFiles;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * How the shipped {@link FashionMnistClassifier} is made: Adam with a cosine-decayed learning rate
 * on softmax cross-entropy over the labelled Fashion-MNIST training set, then its accuracy on the 10,000 test images, then a
 * SavedModel holding the inference graph only (no optimiser state) with signatures
 * {@code features} (outputs {@code features} [N, 128] and {@code conv_features} [N, 64]) and
 * {@code classify} (output {@code logits} [N, 10]), input {@code images} [N, 28, 28, 1] in [0, 1].
 * The run is a function of the seed: initial weights, batch order and dropout masks.
 */
public final class ClassifierTraining {
  private static final int EVAL_BATCH = 1000;

  /**
   * Epochs over the training set, batch size, Adam's peak learning rate (decayed to 0 along a
   * cosine over the run), and the seed of everything.
   */
  public record Options(int epochs, int batchSize, double lr, long seed) {
    public static Options defaults() {
      return new Options(12, 128, 1e-3, 0);
    }

    public Options {
      if (epochs < 1 || batchSize < 1 || !(lr > 0)) {
        throw new IllegalArgumentException("epochs = " + epochs + ", batch size = " + batchSize + " and lr = " + lr
            + " must all be positive");
      }
    }
  }

  /** The trained weights (PyTorch names and layouts) and their test accuracy. */
  public record Outcome(Map<String, FloatArray> weights, double testAccuracy) {}

  private ClassifierTraining() {}

  /** Trains on {@code train} and measures on {@code test}; both must be labelled 28x28 grey images. */
  public static Outcome train(Dataset train, Dataset test, Options o, PrintStream log) throws IOException {
    check(train, "training");
    check(test, "test");
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      FashionMnistClassifier net = new FashionMnistClassifier(tf);
      Placeholder<TFloat32> images = imagesPlaceholder(tf);
      Placeholder<TFloat32> onehot = tf.placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, FashionMnistClassifier.CLASSES)));
      Placeholder<TInt64> seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      Placeholder<TFloat32> lr = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Operand<TFloat32> logits = net.apply(tf, images, Forward.training(seed)).logits();
      Operand<TFloat32> loss = tf.math.neg(tf.math.mean(
          tf.reduceSum(tf.math.mul(onehot, tf.nn.logSoftmax(logits)), tf.constant(1)), tf.constant(0)));
      List<Parameters.Param> params = net.parameters().trainable();
      List<Operand<TFloat32>> vars = new ArrayList<>();
      params.forEach(p -> vars.add(p.variable()));
      List<Operand<TFloat32>> grads = new ArrayList<>();
      for (var grad : tf.gradients(loss, vars).dy()) {
        grads.add(grad.expect(TFloat32.class));
      }
      Adam adam = new Adam(tf, params, new Adam.Options(0.9, 0.999, 1e-8));
      Op update = adam.apply(tf, grads, lr);
      Operand<TFloat32> evalLogits = net.apply(tf, images, Forward.inference()).logits();
      net.parameters().initialize(session, o.seed());
      session.run(adam.initializer());

      long perEpoch = train.size() / o.batchSize();
      long started = System.nanoTime();
      double accuracy = Double.NaN;
      long steps = perEpoch * o.epochs();
      try (BatchLoader loader = new BatchLoader(train, o.batchSize(), o.seed(), false, 2, 4)) {
        loader.start(0);
        for (int epoch = 0; epoch < o.epochs(); epoch++) {
          double lossSum = 0;
          for (long b = epoch * perEpoch; b < (epoch + 1) * perEpoch; b++) {
            // cosine decay to 0: the last epochs settle instead of jumping between minima
            float lrNow = (float) (o.lr() * 0.5 * (1 + Math.cos(Math.PI * b / steps)));
            try (TFloat32 x = Tensors.of(loader.next()); TFloat32 y = oneHot(loader.labels(b));
                TInt64 s = TInt64.vectorOf(o.seed(), b); TFloat32 rate = TFloat32.scalarOf(lrNow);
                Result r = session.runner().feed(images, x).feed(onehot, y).feed(seed, s).feed(lr, rate)
                    .addTarget(update).fetch(loss).run()) {
              lossSum += ((TFloat32) r.get(0)).getFloat();
            }
          }
          accuracy = accuracy(session, images, evalLogits, test);
          log.printf(Locale.ROOT, "epoch %d/%d: mean loss %.4f, test accuracy %.4f (%.0f s)%n", epoch + 1, o.epochs(),
              lossSum / perEpoch, accuracy, (System.nanoTime() - started) / 1e9);
        }
      }
      return new Outcome(net.parameters().read(session), accuracy);
    }
  }

  /** The fraction of {@code data}'s examples whose largest logit is their label. */
  static double accuracy(Session session, Placeholder<TFloat32> images, Operand<TFloat32> logits, Dataset data)
      throws IOException {
    int[] labels = data.labels();
    int correct = 0;
    int k = FashionMnistClassifier.CLASSES;
    for (int first = 0; first < data.size(); first += EVAL_BATCH) {
      int n = Math.min(EVAL_BATCH, data.size() - first);
      try (TFloat32 x = Tensors.of(data.examples(IntStream.range(first, first + n).toArray()));
          Result r = session.runner().feed(images, x).fetch(logits).run()) {
        float[] l = Tensors.toArray((TFloat32) r.get(0)).data();
        for (int i = 0; i < n; i++) {
          int best = 0;
          for (int c = 1; c < k; c++) {
            best = l[i * k + c] > l[i * k + best] ? c : best;
          }
          correct += best == labels[first + i] ? 1 : 0;
        }
      }
    }
    return correct / (double) data.size();
  }

  /**
   * Writes the trained classifier as a SavedModel at {@code target} (which must not exist), with
   * {@code info} (name, accuracy, how it was trained) as {@value SavedModelFeatures#INFO}.
   */
  public static void export(Map<String, FloatArray> weights, JsonObject info, Path target) throws IOException {
    if (Files.exists(target)) {
      throw new FileAlreadyExistsException(target.toString(), null, "the SavedModel exists already");
    }
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = AtomicFiles.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      FashionMnistClassifier net = new FashionMnistClassifier(tf);
      Placeholder<TFloat32> images = imagesPlaceholder(tf);
      FashionMnistClassifier.Outputs out = net.apply(tf, images, Forward.inference());
      net.parameters().write(session, weights);
      Signature features = Signature.builder().key(SavedModelFeatures.OUTPUT).methodName(SavedModelExport.METHOD)
          .input("images", images).output(SavedModelFeatures.OUTPUT, out.features())
          .output("conv_features", out.convFeatures()).build();
      Signature classify = Signature.builder().key("classify").methodName(SavedModelExport.METHOD)
          .input("images", images).output("logits", out.logits()).build();
      SavedModelBundle.exporter(tmp.toString()).withTags(SavedModelExport.TAG).withSession(session)
          .withSignatures(features, classify).export();
      AtomicFiles.writeString(tmp.resolve(SavedModelFeatures.INFO),
          new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(info) + "\n");
      SavedModelExport.publish(tmp, target);
    } catch (IOException | RuntimeException e) {
      AtomicFiles.deleteTree(tmp);
      throw e;
    } finally {
      AtomicFiles.settled(tmp);
    }
  }

  private static Placeholder<TFloat32> imagesPlaceholder(Ops tf) {
    int s = FashionMnistClassifier.SIZE;
    return tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, s, s, 1)));
  }

  private static TFloat32 oneHot(int[] labels) {
    int k = FashionMnistClassifier.CLASSES;
    float[] y = new float[labels.length * k];
    for (int i = 0; i < labels.length; i++) {
      y[i * k + labels[i]] = 1;
    }
    return Tensors.of(new long[] {labels.length, k}, y);
  }

  private static void check(Dataset data, String what) {
    int s = FashionMnistClassifier.SIZE;
    if (!Arrays.equals(data.exampleShape(), new long[] {s, s, 1}) || data.labels() == null) {
      throw new IllegalArgumentException("the " + what + " set must be labelled 28x28 grey images, got "
          + data.describe());
    }
    for (int label : data.labels()) {
      if (label < 0 || label >= FashionMnistClassifier.CLASSES) {
        throw new IllegalArgumentException("the " + what + " set has label " + label + ": expected 0.."
            + (FashionMnistClassifier.CLASSES - 1));
      }
    }
  }
}
