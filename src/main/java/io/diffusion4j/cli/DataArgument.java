package io.diffusion4j.cli;

import io.diffusion4j.data.Dataset;
import io.diffusion4j.data.IdxDataset;
import io.diffusion4j.data.ImageFolderDataset;
import io.diffusion4j.data.NpyDataset;
import io.diffusion4j.data.WavDataset;
import io.diffusion4j.pipeline.ModelConfig;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/** Opens what {@code --data} names as the dataset a model trains on. */
final class DataArgument {
  private static final int IDX_IMAGES_MAGIC = 0x00000803;

  private DataArgument() {}

  /**
   * An image folder (2-D models) or a folder of WAV files (1-D), an MNIST-style idx image file
   * (its labels file beside it is used when present), a .npy array, or a single WAV file.
   */
  static Dataset open(Path data, ModelConfig config, String convertImageTo) throws IOException {
    return open(data, config.sampleShape(), convertImageTo);
  }

  /** As above, for examples of {@code shape} ([H, W, C] images, [L, C] sequences). */
  static Dataset open(Path data, long[] shape, String convertImageTo) throws IOException {
    return open("--data", data, shape, convertImageTo);
  }

  /** As above, for the option {@code flag}; it also takes a single image file. */
  static Dataset open(String flag, Path data, long[] shape, String convertImageTo) throws IOException {
    if (!Files.exists(data)) {
      throw new FileNotFoundException(flag + " " + data + " does not exist");
    }
    int rank = shape.length - 1;
    String name = data.getFileName().toString().toLowerCase(Locale.ROOT);
    if (Files.isDirectory(data)) {
      return rank == 2
          ? ImageFolderDataset.open(data, (int) shape[0], (int) shape[1], (int) shape[2], convertImageTo)
          : WavDataset.open(data, (int) shape[0]);
    }
    if (name.endsWith(".npy")) {
      return NpyDataset.open(data, rank + 1);
    }
    if (rank == 2 && ImageFolderDataset.isImageFile(data)) {
      return ImageFolderDataset.file(data, (int) shape[0], (int) shape[1], (int) shape[2], convertImageTo);
    }
    if (name.endsWith(".wav")) {
      return WavDataset.open(data, (int) shape[0]);
    }
    if (isIdxImages(data)) {
      Path labels = data.resolveSibling(data.getFileName().toString().replace("images-idx3", "labels-idx1"));
      return IdxDataset.open(data, !labels.equals(data) && Files.exists(labels) ? labels : null);
    }
    throw new IllegalArgumentException(flag + " " + data + " is not an image folder or file, an idx image file, a .npy"
        + " array or WAV data");
  }

  private static boolean isIdxImages(Path file) throws IOException {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(2);
    }
    boolean gzip = head.length == 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
    try (InputStream in = gzip ? new GZIPInputStream(Files.newInputStream(file)) : Files.newInputStream(file)) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4 && ByteBuffer.wrap(magic).getInt() == IDX_IMAGES_MAGIC;
    }
  }
}
