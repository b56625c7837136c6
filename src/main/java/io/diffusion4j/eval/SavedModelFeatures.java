package io.diffusion4j.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * A SavedModel (tag {@code serve}) as a feature network: a signature with one float input of
 * images [N, H, W, C] in [0, 1] and an output named {@value #OUTPUT} ([N, d]), or, when a
 * feature layer is asked for by its size (the reference's {@code inception_block_idx}), the
 * rank-2 output of that size. Its name comes from {@value #INFO} ({"name": ...}) when the
 * SavedModel has one, else from its folder.
 */
public final class SavedModelFeatures implements FeatureNetwork {
  public static final String OUTPUT = "features";
  public static final String INFO = "assets.extra/network.json";
  private static final int BATCH = 250;

  private final SavedModelBundle bundle;
  private final String name;
  private final String id;
  private final Signature.TensorDescription input;
  private final Signature.TensorDescription output;
  private final int dimension;

  private SavedModelFeatures(SavedModelBundle bundle, String name, String id, Signature.TensorDescription input,
      Signature.TensorDescription output) {
    this.bundle = bundle;
    this.name = name;
    this.id = id;
    this.input = input;
    this.output = output;
    this.dimension = (int) output.shape.get(1);
  }

  /** One signature output that can serve as features. */
  private record Candidate(Signature signature, String key, Signature.TensorDescription tensor) {
    int size() {
      return (int) tensor.shape.get(1);
    }

    @Override
    public String toString() {
      return "'" + key + "' (" + size() + ") of signature '" + signature.key() + "'";
    }
  }

  /** Loads the SavedModel in {@code dir}; {@code layer} null picks the output named "features". */
  public static SavedModelFeatures open(Path dir, Integer layer) throws IOException {
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      throw new IOException("feature network " + dir + " is not a SavedModel folder (no saved_model.pb)");
    }
    String name = name(dir);
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.load(dir.toString(), SavedModelBundle.DEFAULT_TAG);
    } catch (TensorFlowException e) {
      throw new IOException("feature network " + dir + ": TensorFlow cannot load it with tag serve: " + e.getMessage(), e);
    }
    try {
      Candidate chosen = choose(dir, bundle.signatures(), layer);
      Map<String, Signature.TensorDescription> inputs = chosen.signature().getInputs();
      Signature.TensorDescription in = inputs.size() == 1 ? inputs.values().iterator().next() : null;
      if (in == null || in.dataType != DataType.DT_FLOAT || in.shape.numDimensions() != 4) {
        throw new IllegalArgumentException("feature network " + dir + ": signature '" + chosen.signature().key()
            + "' must take one float32 input of images [N, H, W, C], it takes " + describe(inputs));
      }
      String id = name + "/" + chosen.signature().key() + "/" + chosen.key() + "/" + Hashes.ofFolder(dir);
      return new SavedModelFeatures(bundle, name, id, in, chosen.tensor());
    } catch (IOException | RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  private static Candidate choose(Path dir, List<Signature> signatures, Integer layer) {
    List<Candidate> candidates = new ArrayList<>();
    for (Signature sig : signatures) {
      for (Map.Entry<String, Signature.TensorDescription> out : sig.getOutputs().entrySet()) {
        Signature.TensorDescription t = out.getValue();
        if (t.dataType == DataType.DT_FLOAT && t.shape.numDimensions() == 2 && t.shape.get(1) > 0) {
          candidates.add(new Candidate(sig, out.getKey(), t));
        }
      }
    }
    List<Candidate> matching = candidates.stream()
        .filter(c -> layer == null ? c.key().equals(OUTPUT) : c.size() == layer).toList();
    if (matching.isEmpty()) {
      String wanted = layer == null ? "an output named '" + OUTPUT + "'"
          : "a feature output of size inception_block_idx = " + layer;
      throw new IllegalArgumentException("feature network " + dir + " has no " + wanted + " ([N, d] float32); its"
          + " feature outputs: " + (candidates.isEmpty() ? "none" : candidates.toString()));
    }
    // several signatures may expose one layer: the "features" signature, then serving_default, decide
    return matching.stream().filter(c -> c.signature().key().equals(OUTPUT)).findFirst()
        .or(() -> matching.stream().filter(c -> c.signature().key().equals(Signature.DEFAULT_KEY)).findFirst())
        .orElse(matching.get(0));
  }

  private static String name(Path dir) throws IOException {
    Path info = dir.resolve(INFO);
    if (Files.isRegularFile(info)) {
      try {
        JsonElement n = JsonParser.parseString(Files.readString(info)).getAsJsonObject().get("name");
        if (n != null && n.isJsonPrimitive()) {
          return n.getAsString();
        }
      } catch (JsonParseException | IllegalStateException e) {
        throw new IOException(info + " is not a JSON object with a \"name\": " + e.getMessage(), e);
      }
    }
    Path abs = dir.toAbsolutePath().normalize();
    String folder = abs.getFileName().toString();
    // saved_models/NAME/VERSION: the version alone says nothing
    boolean version = folder.matches("\\d+") && abs.getParent() != null;
    return "saved-model:" + (version ? abs.getParent().getFileName() + "/" + folder : folder);
  }

  private static String describe(Map<String, Signature.TensorDescription> tensors) {
    List<String> parts = new ArrayList<>();
    tensors.forEach((k, t) -> parts.add(k + " " + t.dataType.name().replace("DT_", "").toLowerCase() + " " + t.shape));
    return parts.isEmpty() ? "nothing" : String.join(", ", parts);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public void checkImages(long[] exampleShape) {
    long[] wanted = Arrays.copyOfRange(input.shape.asArray(), 1, 4);
    boolean fits = exampleShape.length == 3;
    for (int i = 0; fits && i < 3; i++) {
      fits = wanted[i] < 0 || wanted[i] == exampleShape[i];
    }
    if (!fits) {
      throw new IllegalArgumentException("the feature network " + name + " takes images " + shape(wanted)
          + ", not " + shape(exampleShape));
    }
  }

  private static String shape(long[] s) {
    return Arrays.toString(s).replace("-1", "any");
  }

  @Override
  public FloatArray features(FloatArray images) {
    return Batches.features(this, images, BATCH, (batch, out, offset) -> {
      long b = batch.shape()[0];
      try (TFloat32 x = Tensors.of(batch); Result r = bundle.session().runner().feed(input.name, x).fetch(output.name).run()) {
        TFloat32 y = (TFloat32) r.get(0);
        if (y.size() != b * dimension) {
          throw new IllegalStateException("feature network " + name + " returned " + y.shape() + " for " + b
              + " images, expected [" + b + ", " + dimension + "]");
        }
        y.asRawTensor().data().asFloats().read(out, offset, (int) y.size());
      }
    });
  }

  @Override
  public void close() {
    bundle.close();
  }
}
