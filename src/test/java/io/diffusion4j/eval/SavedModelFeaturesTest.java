package io.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Close;
import io.diffusion4j.io.FloatArray;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

class SavedModelFeaturesTest {
  @TempDir
  Path dir;

  /**
   * A SavedModel on [N, 6, 4, 1] images whose signature "features" gives "features" = 5 weighted
   * means of the image and "small" = the first 3 of them, from a variable.
   */
  static Path write(Path folder, long[] inputShape) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(inputShape)));
      Variable<TFloat32> w = tf.withName("w").variable(Shape.of(5), TFloat32.class);
      try (TFloat32 values = TFloat32.vectorOf(1, 2, 3, 4, 5)) {
        s.run(tf.assign(w, tf.constantOf(values)));
      }
      Operand<TFloat32> mean = tf.math.mean(tf.reshape(x, tf.constant(new long[] {-1, 24})), tf.constant(1),
          org.tensorflow.op.math.Mean.keepDims(true));
      Operand<TFloat32> features = tf.math.mul(mean, tf.expandDims(w, tf.constant(0)));
      Operand<TFloat32> small = tf.slice(features, tf.constant(new int[] {0, 0}), tf.constant(new int[] {-1, 3}));
      SavedModelBundle.exporter(folder.toString()).withTags("serve").withSession(s)
          .withSignature(Signature.builder().key("features").input("images", x).output("features", features)
              .output("small", small).build())
          .export();
    }
    return folder;
  }

  static FloatArray images(int n) {
    FloatArray a = FloatArray.zeros(n, 6, 4, 1);
    for (int i = 0; i < a.data().length; i++) {
      a.data()[i] = (i % 24) / 23f * (i / 24 + 1) / n;
    }
    return a;
  }

  static float[] expected(FloatArray images, int d) {
    int n = (int) images.shape()[0];
    float[] out = new float[n * d];
    for (int i = 0; i < n; i++) {
      double sum = 0;
      for (int p = 0; p < 24; p++) {
        sum += images.data()[i * 24 + p];
      }
      for (int j = 0; j < d; j++) {
        out[i * d + j] = (float) (sum / 24 * (j + 1));
      }
    }
    return out;
  }

  @Test
  void readsTheNamedFeaturesOutput() throws IOException {
    Path model = write(dir.resolve("net/3"), new long[] {-1, 6, 4, 1});
    FloatArray x = images(300); // more than one batch
    try (FeatureNetwork net = FeatureNetwork.open(model, null, new long[] {6, 4, 1})) {
      assertEquals("saved-model:net/3", net.name());
      assertEquals(5, net.dimension());
      Close.assertClose(expected(x, 5), net.features(x).data(), 1e-6);
    }
    // a feature layer by its size, as inception_block_idx picks one
    try (FeatureNetwork net = FeatureNetwork.open(model.resolve("saved_model.pb"), 3, new long[] {6, 4, 1})) {
      assertEquals(3, net.dimension());
      Close.assertClose(expected(x, 3), net.features(x).data(), 1e-6);
    }
    var missing = assertThrows(IllegalArgumentException.class, () -> SavedModelFeatures.open(model, 7));
    assertTrue(missing.getMessage().contains("inception_block_idx = 7") && missing.getMessage().contains("'small' (3)"),
        missing.getMessage());
  }

  @Test
  void takesItsNameFromNetworkJson() throws IOException {
    Path model = write(dir.resolve("m"), new long[] {-1, 6, 4, 1});
    Files.createDirectories(model.resolve("assets.extra"));
    Files.writeString(model.resolve(SavedModelFeatures.INFO), "{\"name\": \"my-net-v2\"}");
    try (SavedModelFeatures net = SavedModelFeatures.open(model, null)) {
      assertEquals("my-net-v2", net.name());
      assertTrue(net.id().startsWith("my-net-v2/features/features/"), net.id());
    }
  }

  @Test
  void refusesImagesOfAnotherShapeAndFoldersThatAreNotSavedModels() throws IOException {
    Path model = write(dir.resolve("m"), new long[] {-1, 6, 4, 1});
    var shape = assertThrows(IllegalArgumentException.class, () -> FeatureNetwork.open(model, null, new long[] {6, 4, 3}));
    assertTrue(shape.getMessage().contains("[6, 4, 1]") && shape.getMessage().contains("[6, 4, 3]"), shape.getMessage());
    var empty = assertThrows(IOException.class, () -> FeatureNetwork.open(Files.createDirectories(dir.resolve("e")),
        null, new long[] {6, 4, 1}));
    assertTrue(empty.getMessage().contains("no saved_model.pb"), empty.getMessage());
    assertThrows(FileNotFoundException.class, () -> FeatureNetwork.open(dir.resolve("nothing"), null, new long[] {6, 4, 1}));
    var noDefault = assertThrows(IllegalArgumentException.class, () -> FeatureNetwork.open(null, null, new long[] {32, 32, 3}));
    assertTrue(noDefault.getMessage().contains("[32, 32, 3]") && noDefault.getMessage().contains("classify_image_graph_def.pb"),
        noDefault.getMessage());
  }
}
