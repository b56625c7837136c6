package io.diffusion4j.export;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/** What a SavedModel's saved_model.pb declares, read from the proto as saved_model_cli shows it. */
public final class SavedModelInfo {
  private SavedModelInfo() {}

  /** Reads {@code path}/saved_model.pb ({@code path} may also be the .pb file itself). */
  public static SavedModel read(Path path) throws IOException {
    Path pb = Files.isDirectory(path) ? path.resolve("saved_model.pb") : path;
    if (!Files.isRegularFile(pb)) {
      throw new NoSuchFileException(pb.toString(), null, "not a SavedModel: no saved_model.pb");
    }
    try (InputStream in = Files.newInputStream(pb)) {
      return SavedModel.parseFrom(in);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(pb + " is not a SavedModel proto: " + e.getMessage(), e);
    }
  }

  /** Tags, then each signature with its method name, inputs and outputs (dtype and shape). */
  public static String describe(SavedModel model) {
    StringBuilder out = new StringBuilder();
    for (MetaGraphDef meta : model.getMetaGraphsList()) {
      out.append("MetaGraph with tags: ").append(String.join(", ", meta.getMetaInfoDef().getTagsList())).append('\n');
      for (Map.Entry<String, SignatureDef> e : new TreeMap<>(meta.getSignatureDefMap()).entrySet()) {
        SignatureDef sig = e.getValue();
        out.append("  signature '").append(e.getKey()).append("' (method ").append(sig.getMethodName()).append(")\n");
        tensors(out, "inputs", sig.getInputsMap());
        tensors(out, "outputs", sig.getOutputsMap());
      }
    }
    return out.toString();
  }

  private static void tensors(StringBuilder out, String kind, Map<String, TensorInfo> map) {
    out.append("    ").append(kind).append(":\n");
    for (Map.Entry<String, TensorInfo> t : new TreeMap<>(map).entrySet()) {
      TensorInfo info = t.getValue();
      out.append("      ").append(t.getKey()).append(": ").append(info.getDtype().name().replace("DT_", "").toLowerCase())
          .append(' ').append(shape(info.getTensorShape())).append("  (").append(info.getName()).append(")\n");
    }
  }

  static String shape(TensorShapeProto shape) {
    if (shape.getUnknownRank()) {
      return "[unknown rank]";
    }
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < shape.getDimCount(); i++) {
      long size = shape.getDim(i).getSize();
      s.append(i == 0 ? "" : ", ").append(size < 0 ? "?" : Long.toString(size));
    }
    return s.append(']').toString();
  }
}
