package io.diffusion4j.export;

import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.runtime.Execution;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads what a command's --model names, a model folder or a SavedModel. The choice is made here,
 * not in {@link DiffusionModel}: reading a SavedModel belongs to this package, which sits above
 * the pipeline package.
 */
public final class ModelLoader {
  private ModelLoader() {}

  /** A SavedModel folder as {@link SavedModelImport#load(Path, Execution)} reads it, else a model folder's {@code weights}. */
  public static DiffusionModel load(Path folder, DiffusionModel.Weights weights, Execution execution)
      throws IOException {
    if (!Files.isDirectory(folder)) {
      throw new FileNotFoundException(Files.exists(folder) ? folder + " is a file, not a model folder"
          + " (config.json and weights) or SavedModel folder" : "model folder " + folder + " does not exist");
    }
    return SavedModelImport.isSavedModel(folder) ? SavedModelImport.load(folder, execution)
        : DiffusionModel.load(folder, weights, execution);
  }
}
