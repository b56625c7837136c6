package io.diffusion4j.data;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Examples stacked in one .npy array [N, ...example], e.g. [N, L, C] sequences or [N, H, W, C]
 * images, held in memory as float. Values are used as they are: they are expected to lie in
 * [0, 1] already, as for every other dataset.
 */
public final class NpyDataset implements Dataset {
  private final Path file;
  private final float[] data;
  private final int count;
  private final long[] exampleShape;

  private NpyDataset(Path file, float[] data, int count, long[] exampleShape) {
    this.file = file;
    this.data = data;
    this.count = count;
    this.exampleShape = exampleShape;
  }

  /**
   * The array in {@code file}, whose examples must have rank {@code expectedRank}: 2 for
   * sequences [L, C], 3 for images [H, W, C]. An array lacking the channel axis ([N, L] or
   * [N, H, W]) is read as having one channel.
   */
  public static NpyDataset open(Path file, int expectedRank) throws IOException {
    if (expectedRank != 2 && expectedRank != 3) {
      throw new IllegalArgumentException("example rank must be 2 ([L, C]) or 3 ([H, W, C]), got "
          + expectedRank);
    }
    DataFiles.requireExists(file);
    FloatArray array = Npy.read(file);
    long[] shape = array.shape();
    long[] example;
    if (shape.length == expectedRank + 1) {
      example = Arrays.copyOfRange(shape, 1, shape.length);
    } else if (shape.length == expectedRank) {
      example = Arrays.copyOfRange(shape, 1, shape.length + 1);
      example[example.length - 1] = 1;
    } else {
      String layout = expectedRank == 2 ? "[N, L, C] or [N, L]" : "[N, H, W, C] or [N, H, W]";
      throw new IOException(file + ": shape " + Arrays.toString(shape) + " does not hold examples of rank "
          + expectedRank + ": expected " + layout);
    }
    if (shape[0] == 0) {
      throw new IOException(file + ": holds no examples (shape " + Arrays.toString(shape) + ")");
    }
    return new NpyDataset(file, array.data(), (int) shape[0], example);
  }

  @Override
  public int size() {
    return count;
  }

  @Override
  public long[] exampleShape() {
    return exampleShape.clone();
  }

  @Override
  public void read(int index, float[] dst, int offset) {
    int n = exampleLength();
    System.arraycopy(data, index * n, dst, offset, n);
  }

  @Override
  public int[] labels() {
    return null;
  }

  @Override
  public String describe() {
    return "npy " + file + ": " + count + " examples " + Arrays.toString(exampleShape);
  }
}
