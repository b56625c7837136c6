package io.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.diffusion4j.data.IdxDataset;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.types.TFloat32;

/** The shipped classifier: it classifies, and its features rank real < blurred < noise. */
class FashionMnistClassifierTest {
  static final Path SHIPPED = Path.of("saved_models/fashion-mnist-classifier/1");
  static IdxDataset embedded;

  /** The 6,000 Fashion-MNIST training images shipped in the jar, with their labels. */
  @BeforeAll
  static void openEmbedded(@TempDir Path dir) throws IOException {
    for (String name : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
      try (InputStream in = FashionMnistClassifierTest.class.getResourceAsStream("/datasets/fashion-mnist/" + name)) {
        Files.copy(in, dir.resolve(name));
      }
    }
    embedded = IdxDataset.open(dir.resolve("train-images-idx3-ubyte.gz"), dir.resolve("train-labels-idx1-ubyte.gz"));
  }

  static FloatArray images(int first, int n) throws IOException {
    return embedded.examples(IntStream.range(first, first + n).toArray());
  }

  @Test
  void classifiesAndStatesItsTestAccuracy() throws IOException {
    double stated = JsonParser.parseString(Files.readString(SHIPPED.resolve(SavedModelFeatures.INFO)))
        .getAsJsonObject().get("test_accuracy").getAsDouble();
    assertTrue(stated >= 0.9, "stated test accuracy " + stated);
    int n = 2000;
    int[] labels = embedded.labels();
    try (SavedModelBundle bundle = SavedModelBundle.load(SHIPPED.toString(), "serve");
        TFloat32 x = Tensors.of(images(0, n));
        Result r = bundle.function("classify").call(Map.of("images", x))) {
      float[] logits = Tensors.toArray((TFloat32) r.get("logits").orElseThrow()).data();
      int correct = 0;
      for (int i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < 10; c++) {
          best = logits[i * 10 + c] > logits[i * 10 + best] ? c : best;
        }
        correct += best == labels[i] ? 1 : 0;
      }
      assertTrue(correct >= 0.9 * n, correct + " of " + n + " correct");
    }
  }

  /** Real held-out images score better than the same images blurred, and those better than noise. */
  @Test
  void ranksRealBelowBlurredBelowNoise() throws IOException {
    int n = 1500;
    try (FeatureNetwork net = FashionMnistClassifier.open(null)) {
      assertEquals(FashionMnistClassifier.NAME, net.name());
      assertEquals(128, net.dimension());
      FeatureStatistics reference = FeatureStatistics.of(net, FashionMnistClassifierTest::images, n, 500);
      FloatArray heldOut = images(3000, n);
      double[] fd = new double[3];
      double[] kid = new double[3];
      FloatArray[] variants = {heldOut, blur(heldOut), noise(n)};
      for (int v = 0; v < 3; v++) {
        FloatArray x = variants[v];
        FeatureStatistics s = FeatureStatistics.of(net, (first, k) -> slice(x, first, k), n, 500);
        fd[v] = FrechetDistance.between(s, reference);
        kid[v] = KernelDistance.between(s.features(), reference.features(), 10, 500, 0).mean();
      }
      assertTrue(fd[0] < fd[1] && fd[1] < fd[2], "FD real, blurred, noise: " + java.util.Arrays.toString(fd));
      assertTrue(kid[0] < kid[1] && kid[1] < kid[2], "KID real, blurred, noise: " + java.util.Arrays.toString(kid));
    }
    try (FeatureNetwork conv = FashionMnistClassifier.open(64)) {
      assertEquals(64, conv.dimension());
    }
  }

  /** A 5x5 box blur (edges clamped). */
  static FloatArray blur(FloatArray x) {
    int n = (int) x.shape()[0];
    FloatArray out = FloatArray.zeros(x.shape());
    for (int i = 0; i < n; i++) {
      for (int r = 0; r < 28; r++) {
        for (int c = 0; c < 28; c++) {
          float sum = 0;
          for (int dr = -2; dr <= 2; dr++) {
            for (int dc = -2; dc <= 2; dc++) {
              int rr = Math.min(27, Math.max(0, r + dr));
              int cc = Math.min(27, Math.max(0, c + dc));
              sum += x.data()[i * 784 + rr * 28 + cc];
            }
          }
          out.data()[i * 784 + r * 28 + c] = sum / 25;
        }
      }
    }
    return out;
  }

  static FloatArray noise(int n) {
    Random r = new Random(0);
    FloatArray a = FloatArray.zeros(n, 28, 28, 1);
    for (int i = 0; i < a.data().length; i++) {
      a.data()[i] = r.nextFloat();
    }
    return a;
  }

  static FloatArray slice(FloatArray x, int first, int n) {
    int per = (int) (x.size() / x.shape()[0]);
    long[] shape = x.shape().clone();
    shape[0] = n;
    return new FloatArray(shape, java.util.Arrays.copyOfRange(x.data(), first * per, (first + n) * per));
  }
}
