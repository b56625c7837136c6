package io.diffusion4j.export;

import io.diffusion4j.io.AtomicFiles;
import io.diffusion4j.models.Network;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.pipeline.DiffusionModel;
import io.diffusion4j.pipeline.ModelConfig;
import io.diffusion4j.diffusion.Guidance;
import io.diffusion4j.sampling.LoopDriver;
import io.diffusion4j.sampling.Schedule;
import io.diffusion4j.sampling.Settings;
import io.diffusion4j.sampling.Solver;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Writes a model folder as a SavedModel that TensorFlow Serving serves as it is:
 * {@code <root>/<version>/saved_model.pb} and {@code variables/}, tag {@code serve}, and the
 * {@code denoise} signature (inputs {@code x}, {@code time}, and {@code x_self_cond} /
 * {@code class_labels} where the network takes them; output {@code out}, the raw network output)
 * and, for models with a diffusion part, {@code serving_default} (the whole sampler in the graph,
 * see {@link #servingSignature}), with the method name TF Serving expects. The model's config.json goes to {@code assets.extra/}
 * so that clients can rebuild the diffusion around {@code denoise}. The version folder is written
 * under a temporary name and renamed into place.
 */
public final class SavedModelExport {
  public static final String TAG = "serve";
  public static final String METHOD = "tensorflow/serving/predict";
  public static final String DENOISE = "denoise";
  /** Where the model's config.json goes, for {@link SavedModelImport} and other clients. */
  static final String ASSETS_EXTRA = "assets.extra";
  private static final Pattern VERSION = Pattern.compile("\\d+");

  private SavedModelExport() {}

  /**
   * Exports {@code modelFolder} (its EMA weights when it has them) to {@code root}/{@code version}.
   *
   * @param version null for one more than the highest existing version (1 for a new root)
   * @return the version folder written
   */
  public static Path export(Path modelFolder, Path root, Long version) throws IOException {
    return export(modelFolder, root, version, Serving.DEFAULT);
  }

  /** As {@link #export(Path, Path, Long)}, with {@code serving_default} sampling as {@code serving} says. */
  public static Path export(Path modelFolder, Path root, Long version, Serving serving) throws IOException {
    if (SavedModelImport.isSavedModel(modelFolder)) {
      throw new IllegalArgumentException(modelFolder + " is a SavedModel already: export takes a model folder"
          + " (config.json and model.safetensors)");
    }
    long v = version != null ? version : nextVersion(root);
    if (v < 1) {
      throw new IllegalArgumentException("--version " + v + " must be a positive integer");
    }
    Path target = root.resolve(Long.toString(v));
    if (Files.exists(target)) {
      throw new FileAlreadyExistsException(target.toString(), null,
          "version " + v + " exists already; choose another --version or leave it out for the next one");
    }
    try (DiffusionModel model = DiffusionModel.load(modelFolder, DiffusionModel.Weights.PREFER_EMA)) {
      createDirectories(root);
      Path tmp = AtomicFiles.createTempDirectory(root, "." + v + ".tmp-");
      try {
        SavedModelBundle.Exporter exporter = SavedModelBundle.exporter(tmp.toString()).withTags(TAG)
            .withSession(model.session()).withSignature(denoiseSignature(model));
        if (model.diffusion().isPresent()) {
          exporter.withSignature(servingSignature(model, serving));
        }
        exporter.export();
        Path extra = Files.createDirectories(tmp.resolve(ASSETS_EXTRA));
        Files.copy(modelFolder.resolve(DiffusionModel.CONFIG), extra.resolve(DiffusionModel.CONFIG));
        publish(tmp, target);
      } catch (IOException | RuntimeException e) {
        AtomicFiles.deleteTree(tmp);
        throw e;
      } finally {
        AtomicFiles.settled(tmp);
      }
    }
    return target;
  }

  /**
   * Renames a SavedModel written in the temporary folder {@code tmp} (beside {@code target}) into
   * place, readable by all: temporary folders are private, and a served model must be readable by
   * the server's user.
   */
  public static void publish(Path tmp, Path target) throws IOException {
    if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The raw network on placeholders: x [N, ..., C], time [N], and the conditioning it takes. */
  static Signature denoiseSignature(DiffusionModel model) {
    Network net = model.network();
    Ops tf = model.ops().withSubScope("denoise");
    long[] shape = Tensors.batchShape(-1, model.config().inputShape());
    Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
    Placeholder<TFloat32> time = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
    Signature.Builder sig = Signature.builder().key(DENOISE).methodName(METHOD).input("x", x).input("time", time);
    Placeholder<TFloat32> selfCond = null;
    if (net.selfCondition()) {
      selfCond = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
      sig.input("x_self_cond", selfCond);
    }
    Placeholder<TInt64> labels = null;
    if (net.numClasses() > 0) {
      labels = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1)));
      sig.input("class_labels", labels);
    }
    Operand<TFloat32> out = net.apply(tf, x, time, selfCond, labels, Forward.inference());
    return sig.output("out", out).build();
  }

  /**
   * How {@code serving_default} samples: a solver of the catalogue (null: the config's), the
   * largest step count it takes (null: 256, or the config's default when larger; a Gaussian
   * diffusion's own schedule has at most its timesteps), the schedule, eta and s_noise (null:
   * the defaults), whether x0 is clamped (null: {@link io.diffusion4j.sampling.ClipDenoised}'s
   * default), and for guided models guidance's fixed settings (null: the reference's defaults;
   * cond_scale is the signature's input).
   */
  public record Serving(Solver<?, ?> solver, Integer maxSteps, Schedule schedule, Double eta, Double sNoise,
      Boolean clipDenoised, Guidance guidance) {
    public static final Serving DEFAULT = new Serving(null, null, null, null, null, null, null);
    static final int MAX_STEPS = 256;

    int maxSteps(Settings settings, Denoiser d) {
      int max = maxSteps != null ? maxSteps : Math.max(MAX_STEPS, settings.steps());
      return settings.schedule() == Schedule.OWN && d.timesteps() > 0 ? Math.min(max, d.timesteps()) : max;
    }
  }

  /**
   * The whole sampler as a while loop: inputs seed (int64 scalar), num (int32 scalar), steps
   * (int32 scalar; callers of a signature give every input, TF Serving included, so it has no
   * default) and class_labels (int64 [num]) for class-conditional networks, and cond_scale
   * (float32 scalar) for guided ones, which evaluate both halves at every scale (1 included);
   * output images in [0, 1].
   */
  static Signature servingSignature(DiffusionModel model, Serving serving) {
    Ops tf = model.ops().withSubScope("serving_default");
    Denoiser d = model.sampler().denoiser();
    Settings settings = Settings.of(d, serving.solver(), null, serving.schedule(), serving.eta(), serving.sNoise(), 0)
        .withClipDenoised(serving.clipDenoised());
    if (settings.guidance() != null && serving.guidance() != null) {
      settings = settings.withGuidance(d, serving.guidance());
    }
    ModelConfig config = model.config();
    LoopDriver<?, ?> loop = new LoopDriver<>(d, p -> config.diffusion().create(config.network().create(p)), settings,
        serving.maxSteps(settings, d));
    Placeholder<TInt64> seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TInt32> num = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TInt32> steps = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    Signature.Builder sig = Signature.builder().key(Signature.DEFAULT_KEY).methodName(METHOD)
        .input("seed", seed).input("num", num).input("steps", steps);
    Placeholder<TInt64> labels = null;
    if (model.network().numClasses() > 0) {
      labels = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1)));
      sig.input("class_labels", labels);
    }
    Placeholder<TFloat32> condScale = null;
    if (settings.guidance() != null) {
      condScale = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      sig.input("cond_scale", condScale);
    }
    return sig.output("images", loop.sample(tf, model.network(), seed, num, steps, labels, condScale)).build();
  }

  /** One more than the highest numeric folder in {@code root} (1 when there is none). */
  static long nextVersion(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return 1;
    }
    try (Stream<Path> entries = Files.list(root)) {
      return entries.map(p -> p.getFileName().toString()).filter(n -> VERSION.matcher(n).matches())
          .mapToLong(Long::parseLong).max().orElse(0) + 1;
    }
  }

  private static void createDirectories(Path root) throws IOException {
    if (Files.exists(root) && !Files.isDirectory(root)) {
      throw new NotDirectoryException(root.toString());
    }
    try {
      Files.createDirectories(root);
    } catch (AccessDeniedException e) {
      throw new AccessDeniedException(root.toString(), null, "cannot create the export folder");
    }
    if (!Files.isWritable(root)) {
      throw new AccessDeniedException(root.toString(), null, "the export folder is not writable");
    }
  }

}
