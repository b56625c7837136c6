package io.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Close;
import io.diffusion4j.io.FloatArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;

/**
 * Loading a GraphDef through the tensors the 2015 Inception graph has: a stand-in built here with
 * the same names and the same front (DecodeJpeg, Cast, ExpandDims, bilinear resize to 299,
 * (x - 128) / 128) and a pool_3 of 2048 values that is a known linear map of the channel means.
 */
class InceptionFeaturesTest {
  @TempDir
  Path dir;

  /** pool_3[n, j] = sum_c mean_c(image n, scaled to [-1, 1]) * w(c, j). */
  static float w(int c, int j) {
    return (float) Math.sin(1 + c * 2048 + j);
  }

  static Path standIn(Path dir, boolean withPool) throws IOException {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> jpeg = tf.withSubScope("DecodeJpeg").withName("contents").placeholder(TString.class);
      Operand<TFloat32> decoded = tf.dtypes.cast(tf.withName("DecodeJpeg").image.decodeJpeg(jpeg), TFloat32.class);
      Operand<TFloat32> batch = tf.withName("ExpandDims").expandDims(decoded, tf.constant(0));
      Operand<TFloat32> resized = tf.withName("ResizeBilinear").image.resizeBilinear(batch, tf.constant(new int[] {299, 299}));
      Operand<TFloat32> scaled = tf.withName("Mul").math.mul(tf.math.sub(resized, tf.constant(128f)), tf.constant(1 / 128f));
      Operand<TFloat32> means = tf.math.mean(scaled, tf.constant(new int[] {1, 2}));
      float[][] weights = new float[3][2048];
      for (int c = 0; c < 3; c++) {
        for (int j = 0; j < 2048; j++) {
          weights[c][j] = w(c, j);
        }
      }
      Operand<TFloat32> features = tf.linalg.matMul(means, tf.constant(weights));
      tf.withName(withPool ? "pool_3" : "pool_4").reshape(features, tf.constant(new long[] {-1, 1, 1, 2048}));
      Path file = dir.resolve(withPool ? "classify_image_graph_def.pb" : "other.pb");
      Files.write(file, g.toGraphDef().toByteArray());
      return file;
    }
  }

  @Test
  void feedsImagesAsTturDoesAndReadsPool3() throws IOException {
    // two grey images and one of a different level: constant images survive the resize exactly
    float[] levels = {0f, 0.5f, 1f};
    FloatArray grey = FloatArray.zeros(3, 28, 28, 1);
    for (int n = 0; n < 3; n++) {
      for (int p = 0; p < 28 * 28; p++) {
        grey.data()[n * 28 * 28 + p] = levels[n];
      }
    }
    try (InceptionFeatures net = InceptionFeatures.open(standIn(dir, true), null)) {
      assertEquals("inception-2015-12-05", net.name());
      assertEquals(2048, net.dimension());
      FloatArray f = net.features(grey);
      assertEquals(3, f.shape()[0]);
      float[] expected = new float[3 * 2048];
      for (int n = 0; n < 3; n++) {
        float v = (255 * levels[n] - 128) / 128;
        for (int j = 0; j < 2048; j++) {
          expected[n * 2048 + j] = v * (w(0, j) + w(1, j) + w(2, j));
        }
      }
      Close.assertClose(expected, f.data(), 2e-5);
      // RGB goes through channel by channel (levels whose scaled values the graph's float mean sums exactly)
      FloatArray rgb = FloatArray.zeros(1, 5, 7, 3);
      for (int p = 0; p < 35; p++) {
        rgb.data()[3 * p] = 1;
        rgb.data()[3 * p + 2] = 0.5f;
      }
      float[] one = new float[2048];
      for (int j = 0; j < 2048; j++) {
        one[j] = w(0, j) * 127 / 128f - w(1, j) - w(2, j) / 256;
      }
      Close.assertClose(one, net.features(rgb).data(), 2e-5);
      assertTrue(net.id().startsWith("inception-2015-12-05/pool_3/"), net.id());
    }
  }

  @Test
  void refusesWhatItCannotScore() throws IOException {
    Path graph = standIn(dir, true);
    var layer = assertThrows(IllegalArgumentException.class, () -> InceptionFeatures.open(graph, 768));
    assertTrue(layer.getMessage().contains("inception_block_idx = 768") && layer.getMessage().contains("2048"),
        layer.getMessage());
    var other = assertThrows(IllegalArgumentException.class, () -> InceptionFeatures.open(standIn(dir, false), null));
    assertTrue(other.getMessage().contains("pool_3:0"), other.getMessage());
    Path junk = Files.write(dir.resolve("junk.pb"), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
    var notAGraph = assertThrows(IOException.class, () -> InceptionFeatures.open(junk, null));
    assertTrue(notAGraph.getMessage().contains("junk.pb"), notAGraph.getMessage());
    try (InceptionFeatures net = InceptionFeatures.open(graph, 2048)) {
      var rgba = assertThrows(IllegalArgumentException.class, () -> net.checkImages(new long[] {8, 8, 4}));
      assertTrue(rgba.getMessage().contains("[8, 8, 4]"), rgba.getMessage());
    }
  }
}
