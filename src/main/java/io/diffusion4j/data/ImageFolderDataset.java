package io.diffusion4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The images of a folder and its sub-folders, like the Python reference's {@code Dataset}:
 * converted to one mode (as PIL's {@code convert}), resized to cover the training size with an
 * antialiased bilinear filter, centre-cropped (see {@link Resampler}). Images are decoded on
 * each read, so memory stays small whatever the folder's size.
 *
 * <p>When every image sits in a sub-folder, the first-level sub-folder is the image's class:
 * its index among the sub-folder names in sorted order is the label, for class-conditional
 * training. Images directly in the folder make the whole dataset unlabelled.
 *
 * <p>Deviation from PIL: 16-bit PNG and TIFF samples keep their full precision (value / 65535);
 * PIL reduces 16-bit RGB to 8 bits and clips 16-bit grey at 255 when converting to L. JPEGs
 * decode with the JDK's libjpeg, which may differ from PIL's by a level here and there; CMYK
 * JPEGs are not supported by javax.imageio and fail with the file named.
 */
public final class ImageFolderDataset implements Dataset {
  /** The extensions searched, compared case-insensitively. */
  public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "tiff", "tif", "bmp");

  private final Path folder;
  private final List<Path> files;
  private final int height;
  private final int width;
  private final ImageMode mode;
  private final List<String> classNames;
  private final int[] labels;

  private ImageFolderDataset(Path folder, List<Path> files, int height, int width, ImageMode mode,
      List<String> classNames, int[] labels) {
    this.folder = folder;
    this.files = files;
    this.height = height;
    this.width = width;
    this.mode = mode;
    this.classNames = classNames;
    this.labels = labels;
  }

  /**
   * The images under {@code folder} (recursively; extensions {@link #EXTENSIONS}, sorted by
   * relative path), as [height, width, channels] examples. {@code convertImageTo} is "L", "RGB",
   * "RGBA", or null for the mode with {@code channels} channels; its channel count must be
   * {@code channels}. The first image is decoded at once so that a wrong folder fails here.
   */
  public static ImageFolderDataset open(Path folder, int height, int width, int channels,
      String convertImageTo) throws IOException {
    if (height < 1 || width < 1) {
      throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
    }
    ImageMode mode = ImageMode.resolve(convertImageTo, channels);
    List<Path> files = DataFiles.find(folder, EXTENSIONS);
    if (files.isEmpty()) {
      throw new IOException("no images in " + folder + " (searched recursively for "
          + String.join(", ", new TreeSet<>(EXTENSIONS)) + ")");
    }
    List<String> classNames = classNames(folder, files);
    int[] labels = classNames.isEmpty() ? null : labels(folder, files, classNames);
    ImageFolderDataset data =
        new ImageFolderDataset(folder, files, height, width, mode, classNames, labels);
    data.read(0, new float[data.exampleLength()], 0);
    return data;
  }

  /** One image file as a dataset of one example, resized as a folder's images are. */
  public static ImageFolderDataset file(Path file, int height, int width, int channels, String convertImageTo)
      throws IOException {
    ImageFolderDataset data = new ImageFolderDataset(file, List.of(file), height, width,
        ImageMode.resolve(convertImageTo, channels), List.of(), null);
    data.read(0, new float[data.exampleLength()], 0);
    return data;
  }

  /** Whether {@code file} has an image extension this dataset reads. */
  public static boolean isImageFile(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    int dot = name.lastIndexOf('.');
    return dot >= 0 && EXTENSIONS.contains(name.substring(dot + 1));
  }

  /** The sorted first-level sub-folder names, or none when some image lies directly in the folder. */
  private static List<String> classNames(Path folder, List<Path> files) {
    if (files.stream().anyMatch(f -> folder.relativize(f).getNameCount() == 1)) {
      return List.of();
    }
    return files.stream().map(f -> className(folder, f)).distinct().sorted().toList();
  }

  private static int[] labels(Path folder, List<Path> files, List<String> classNames) {
    Map<String, Integer> label = new HashMap<>();
    for (int i = 0; i < classNames.size(); i++) {
      label.put(classNames.get(i), i);
    }
    return files.stream().mapToInt(f -> label.get(className(folder, f))).toArray();
  }

  /** The first-level sub-folder holding {@code file}. */
  private static String className(Path folder, Path file) {
    return folder.relativize(file).getName(0).toString();
  }

  @Override
  public int size() {
    return files.size();
  }

  @Override
  public long[] exampleShape() {
    return new long[] {height, width, mode.channels};
  }

  @Override
  public void read(int index, float[] dst, int offset) throws IOException {
    DecodedImage image = DecodedImage.decode(files.get(index));
    float[] pixels = image.convert(mode);
    Resampler.coverAndCrop(pixels, image.height(), image.width(), mode.channels, height, width, dst, offset);
  }

  @Override
  public int[] labels() {
    return labels == null ? null : labels.clone();
  }

  /** The class (first-level sub-folder) names in label order; empty when unlabelled. */
  public List<String> classNames() {
    return classNames;
  }

  /** The image files in example order. */
  public List<Path> files() {
    return files;
  }

  @Override
  public String describe() {
    String classes = labels == null ? "unlabelled" : classNames.size() + " classes";
    return "image folder " + folder + ": " + files.size() + " images, " + classes + ", " + mode
        + " " + height + "x" + width;
  }
}
