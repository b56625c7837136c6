package io.diffusion4j.eval;

import io.diffusion4j.io.FloatArray;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A network that maps images to feature vectors for the Fréchet and kernel distances: the 2015
 * Inception graph that published FIDs use, a SavedModel with a features output, or the
 * Fashion-MNIST classifier shipped with diffusion4j. Holds a native graph and session: close it.
 */
public interface FeatureNetwork extends AutoCloseable {

  /**
   * The name printed with every score, so that a score from one network is never taken for a
   * score from another (only {@value InceptionFeatures#NAME} gives FIDs comparable with papers).
   */
  String name();

  /** What pins the features exactly (name, layer, a hash of the weights): part of the statistics cache key. */
  String id();

  /** The length of a feature vector. */
  int dimension();

  /**
   * Fails with a message naming what the network takes when images of shape {@code exampleShape}
   * ([H, W, C]) cannot be scored by it.
   */
  void checkImages(long[] exampleShape);

  /** Features [N, dimension] of images [N, H, W, C] with values in [0, 1]. */
  FloatArray features(FloatArray images);

  @Override
  void close();

  /**
   * The feature network at {@code path} for images of shape {@code exampleShape} ([H, W, C]): a
   * GraphDef file is taken for the 2015 Inception graph, a folder (or its saved_model.pb) for a
   * SavedModel; null means the built-in {@value FashionMnistClassifier#NAME}, which takes 28x28 grey
   * images only. {@code layer} picks a feature layer by its size (null: the network's standard
   * one), as the reference's inception_block_idx does.
   */
  static FeatureNetwork open(Path path, Integer layer, long[] exampleShape) throws IOException {
    FeatureNetwork net;
    if (path == null) {
      long s = FashionMnistClassifier.SIZE;
      if (!Arrays.equals(exampleShape, new long[] {s, s, 1})) {
        throw new IllegalArgumentException("no feature network for " + Arrays.toString(exampleShape) + " images: the"
            + " built-in " + FashionMnistClassifier.NAME + " scores 28x28 grey images only; give the path of"
            + " TensorFlow's Inception GraphDef (classify_image_graph_def.pb from inception-2015-12-05, for FIDs"
            + " comparable with published ones) or of a SavedModel with a '" + SavedModelFeatures.OUTPUT + "' output");
      }
      net = FashionMnistClassifier.open(layer);
    } else if (!Files.exists(path)) {
      throw new FileNotFoundException("feature network " + path + " does not exist");
    } else if (Files.isDirectory(path)) {
      net = SavedModelFeatures.open(path, layer);
    } else if (path.getFileName().toString().equals("saved_model.pb")) {
      net = SavedModelFeatures.open(path.toAbsolutePath().getParent(), layer);
    } else {
      net = InceptionFeatures.open(path, layer);
    }
    try {
      net.checkImages(exampleShape);
    } catch (RuntimeException e) {
      net.close();
      throw e;
    }
    return net;
  }
}
