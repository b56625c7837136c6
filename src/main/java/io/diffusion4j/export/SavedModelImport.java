package io.diffusion4j.export;

import io.diffusion4j.models.DeferredNetwork;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.runtime.Execution;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.proto.ConfigProto;

/**
 * Reads a SavedModel back as a {@link DiffusionModel}, the mirror of {@link SavedModelExport}:
 * the samplers' step maths run in the model's own graph and every network evaluation is a call
 * of the {@code denoise} signature in the SavedModel's own session; the weights stay in the
 * SavedModel.
 */
public final class SavedModelImport {
  private SavedModelImport() {}

  /** Whether {@code folder} holds a SavedModel (its saved_model.pb). */
  public static boolean isSavedModel(Path folder) {
    return Files.exists(folder.resolve("saved_model.pb"));
  }

  /** A SavedModel written by {@code export}, described by the config.json it carries in assets.extra. */
  public static DiffusionModel load(Path folder) throws IOException {
    return load(folder, Execution.CPU);
  }

  /** As {@link #load(Path)}, the SavedModel's session and the model's run as {@code execution} says. */
  public static DiffusionModel load(Path folder, Execution execution) throws IOException {
    Path config = folder.resolve(SavedModelExport.ASSETS_EXTRA).resolve(DiffusionModel.CONFIG);
    if (!Files.isRegularFile(config)) {
      throw new FileNotFoundException("SavedModel " + folder + " has no assets.extra/config.json: give the"
          + " config of its network and diffusion (SavedModelImport.load(folder, config))");
    }
    return load(folder, ModelConfig.read(config), execution);
  }

  /**
   * Any SavedModel with a {@code denoise} signature as the contract describes (inputs x, time,
   * and x_self_cond / class_labels where the network takes them; output out). {@code config}
   * tells what the network takes and which diffusion to run around it; no weights are needed here.
   */
  public static DiffusionModel load(Path folder, ModelConfig config) throws IOException {
    return load(folder, config, Execution.CPU);
  }

  /** As {@link #load(Path, ModelConfig)}, the SavedModel's session and the model's run as {@code execution} says. */
  public static DiffusionModel load(Path folder, ModelConfig config, Execution execution) throws IOException {
    if (!Files.isRegularFile(folder.resolve("saved_model.pb"))) {
      throw new FileNotFoundException(folder + " is not a SavedModel folder (it has no saved_model.pb)");
    }
    SavedModelBundle bundle = SavedModelBundle.loader(folder.toString()).withTags(SavedModelExport.TAG)
        .withConfigProto(execution.configure(ConfigProto.getDefaultInstance())).load();
    Signature signature;
    DiffusionModel m;
    try {
      signature = bundle.signatures().stream().filter(s -> s.key().equals(SavedModelExport.DENOISE)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("SavedModel " + folder + " has no 'denoise' signature; it has "
              + bundle.signatures().stream().map(Signature::key).toList()));
      m = DiffusionModel.deferred(config, denoiseEvaluator(bundle.function(SavedModelExport.DENOISE)), bundle,
          execution);
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
    // from here the model owns the bundle
    Set<String> expected = new TreeSet<>(List.of("x", "time"));
    if (m.network().selfCondition()) {
      expected.add("x_self_cond");
    }
    if (m.network().numClasses() > 0) {
      expected.add("class_labels");
    }
    if (!expected.equals(new TreeSet<>(signature.inputNames()))) {
      m.close();
      throw new IllegalArgumentException("SavedModel " + folder + ": its 'denoise' signature takes "
          + new TreeSet<>(signature.inputNames()) + ", the config's network takes " + expected);
    }
    return m;
  }

  private static DeferredNetwork.Evaluator denoiseEvaluator(SessionFunction denoise) {
    return (x, time, selfCond, labels) -> {
      Map<String, Tensor> in = new HashMap<>(Map.of("x", x, "time", time));
      if (selfCond != null) {
        in.put("x_self_cond", selfCond);
      }
      if (labels != null) {
        in.put("class_labels", labels);
      }
      return denoise.call(in);
    };
  }
}
