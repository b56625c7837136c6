package io.diffusion4j.eval;

import com.google.protobuf.InvalidProtocolBufferException;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/**
 * The network published FIDs use: {@code classify_image_graph_def.pb} of TensorFlow's
 * inception-2015-12-05 release, given by path (these machines cannot download it). It is fed as
 * TTUR's fid.py feeds it, which pytorch-fid's port reproduces: batches of 50 images, channels-last
 * RGB with values in [0, 255], at their own size, into the tensor {@value #INPUT}; the graph
 * itself resizes them bilinearly to 299 x 299 and scales them to [-1, 1]; the features are
 * {@value #OUTPUT}, 2048 values. Grey images are repeated over three channels, as the reference
 * Trainer does before its Inception. Values are not rounded to whole grey levels: samples are
 * scored as the model makes them, as the reference Trainer scores them.
 */
public final class InceptionFeatures implements FeatureNetwork {
  public static final String NAME = "inception-2015-12-05";
  public static final String INPUT = "ExpandDims:0";
  public static final String OUTPUT = "pool_3:0";
  public static final int DIMENSION = 2048;
  private static final int BATCH = 50;

  private final Graph graph;
  private final Session session;
  private final String id;

  private InceptionFeatures(Graph graph, String id) {
    this.graph = graph;
    this.session = new Session(graph);
    this.id = id;
  }

  /**
   * Imports the GraphDef at {@code file}. Only pool_3 (2048 features) exists in it: another
   * {@code layer} (pytorch-fid's 64, 192 or 768) is refused.
   */
  public static InceptionFeatures open(Path file, Integer layer) throws IOException {
    if (layer != null && layer != DIMENSION) {
      throw new IllegalArgumentException("inception_block_idx = " + layer + " is not available from the 2015"
          + " Inception GraphDef: it offers pool_3 (2048) only; pytorch-fid's 64, 192 and 768 blocks exist in its"
          + " PyTorch port, not in this graph");
    }
    GraphDef def;
    try (InputStream in = Files.newInputStream(file)) {
      def = GraphDef.parseFrom(in);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("feature network " + file + " is not a TensorFlow GraphDef: " + e.getMessage(), e);
    }
    Graph graph = new Graph();
    try {
      try {
        graph.importGraphDef(def);
      } catch (IllegalArgumentException | TensorFlowException e) {
        throw new IOException("feature network " + file + ": TensorFlow cannot import it: " + e.getMessage(), e);
      }
      for (String tensor : new String[] {INPUT, OUTPUT}) {
        if (graph.operation(tensor.substring(0, tensor.indexOf(':'))) == null) {
          throw new IllegalArgumentException("feature network " + file + " has no tensor " + tensor + ": it is not"
              + " classify_image_graph_def.pb from inception-2015-12-05");
        }
      }
      Shape shape = graph.operation(OUTPUT.substring(0, OUTPUT.indexOf(':'))).output(0).shape();
      if (shape.numDimensions() < 1 || shape.get(shape.numDimensions() - 1) != DIMENSION) {
        throw new IllegalArgumentException("feature network " + file + ": " + OUTPUT + " has shape " + shape
            + ", the 2015 Inception graph's has " + DIMENSION + " values per image");
      }
      return new InceptionFeatures(graph, NAME + "/pool_3/" + Hashes.ofFile(file));
    } catch (IOException | RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int dimension() {
    return DIMENSION;
  }

  @Override
  public void checkImages(long[] exampleShape) {
    if (exampleShape.length != 3 || (exampleShape[2] != 1 && exampleShape[2] != 3)) {
      throw new IllegalArgumentException("the feature network " + NAME + " takes grey or RGB images [H, W, 1 or 3],"
          + " not " + Arrays.toString(exampleShape));
    }
  }

  @Override
  public FloatArray features(FloatArray images) {
    return Batches.features(this, images, BATCH, (batch, out, offset) -> {
      long[] shape = batch.shape();
      int pixels = (int) (shape[0] * shape[1] * shape[2]);
      int channels = (int) shape[3];
      float[] rgb = new float[pixels * 3];
      for (int p = 0; p < pixels; p++) {
        for (int c = 0; c < 3; c++) {
          rgb[3 * p + c] = 255f * batch.data()[p * channels + (channels == 1 ? 0 : c)];
        }
      }
      try (TFloat32 x = Tensors.of(new long[] {shape[0], shape[1], shape[2], 3}, rgb);
          Result r = session.runner().feed(INPUT, x).fetch(OUTPUT).run()) {
        ((TFloat32) r.get(0)).asRawTensor().data().asFloats().read(out, offset, (int) shape[0] * DIMENSION);
      }
    });
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
