package io.diffusion4j.cli;

import io.diffusion4j.data.Dataset;
import io.diffusion4j.data.ImageFolderDataset;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.sampling.RePaint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Option;

/** {@code sample}'s inpainting options: the known images, the mask, and RePaint's resampling. */
final class InpaintOptions {
  @Option(names = "--inpaint", paramLabel = "IMAGES", description = "inpaint these images (RePaint): an image file,"
      + " an image folder, an idx file or a .npy array [N, H, W, C] in [0, 1]; one output per image")
  Path images;

  @Option(names = "--mask", paramLabel = "MASK", description = "with --inpaint: 1 = keep, 0 = fill (values >= 0.5 count"
      + " as 1); an image file (grey), or .npy [H, W], [H, W, 1], [H, W, C] for every image or [N, H, W, 1|C] one each")
  Path mask;

  @Option(names = "--resample-iter", paramLabel = "R", description = "with --inpaint: resamplings at each jump (default "
      + "10)")
  Integer resampleIter;

  @Option(names = "--resample-jump", paramLabel = "J", description = "with --inpaint: levels each resampling goes back"
      + " (default 10)")
  Integer resampleJump;

  @Option(names = "--resample-every", paramLabel = "K", description = "with --inpaint: resample every K steps (default"
      + " 50)")
  Integer resampleEvery;

  boolean given() {
    return images != null;
  }

  /** Fails unless the options go together. */
  void check() {
    if ((images == null) != (mask == null)) {
      throw new IllegalArgumentException(images == null ? "--mask needs --inpaint IMAGES" : "--inpaint needs --mask MASK");
    }
    if (images == null && (resampleIter != null || resampleJump != null || resampleEvery != null)) {
      throw new IllegalArgumentException("--resample-iter, --resample-jump and --resample-every go with --inpaint");
    }
    options();
  }

  RePaint.Options options() {
    RePaint.Options d = RePaint.Options.DEFAULT;
    try {
      return new RePaint.Options(resampleIter != null ? resampleIter : d.resampleIter(),
          resampleJump != null ? resampleJump : d.resampleJump(), resampleEvery != null ? resampleEvery : d.resampleEvery());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + e.getMessage().replaceFirst("^([a-z]+)_([a-z]+) = ", "$1-$2 "), e);
    }
  }

  /** The known images and mask for examples of {@code perExample} ([H, W, C]). */
  Known open(long[] perExample) throws IOException {
    Dataset data = DataArgument.open("--inpaint", images, perExample, null);
    if (!Arrays.equals(data.exampleShape(), perExample)) {
      throw new IllegalArgumentException("--inpaint " + images + " holds examples of shape "
          + Arrays.toString(data.exampleShape()) + ", the model makes " + Arrays.toString(perExample));
    }
    return new Known(data, Mask.open(mask, perExample, data.size()));
  }

  /** The images to inpaint, read batch by batch, and their mask. */
  static final class Known implements RePaint.Known {
    private final Dataset data;
    private final Mask mask;

    Known(Dataset data, Mask mask) {
      this.data = data;
      this.mask = mask;
    }

    long count() {
      return data.size();
    }

    @Override
    public FloatArray images(long first, int n) {
      int[] rows = new int[n];
      Arrays.setAll(rows, i -> Math.toIntExact(first + i));
      try {
        return data.examples(rows);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public FloatArray mask(long first, int n) {
      return mask.rows(first, n);
    }
  }

  /**
   * A mask for every image, or one per image (read from its file batch by batch, as the images
   * are); 1 keeps a pixel.
   *
   * @param file the per-image masks' .npy, else null
   * @param fileChannels their channel count (1 or the images')
   */
  record Mask(long[] perExample, float[] shared, Path file, long fileChannels) {

    static Mask open(Path file, long[] perExample, long images) throws IOException {
      if (!Files.exists(file)) {
        throw new IllegalArgumentException("--mask " + file + " does not exist");
      }
      int channels = (int) perExample[2];
      if (ImageFolderDataset.isImageFile(file)) {
        Dataset grey = ImageFolderDataset.file(file, (int) perExample[0], (int) perExample[1], 1, "L");
        float[] g = grey.examples(new int[] {0}).data();
        long[] hw1 = {perExample[0], perExample[1], 1};
        return new Mask(perExample, broadcast(file, g, hw1, perExample), null, 0);
      }
      if (!file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
        throw new IllegalArgumentException("--mask " + file + " must be an image file or a .npy array");
      }
      long[] s;
      try (Npy.Rows rows = Npy.Rows.open(file)) {
        s = rows.shape();
      }
      if (s.length == 2 || s.length == 3) {
        float[] m = Npy.read(file).data();
        long[] hwc = s.length == 2 ? new long[] {s[0], s[1], 1} : s;
        return new Mask(perExample, broadcast(file, m, hwc, perExample), null, 0);
      }
      if (s.length == 4 && s[0] == images && s[1] == perExample[0] && s[2] == perExample[1]
          && (s[3] == 1 || s[3] == channels)) {
        return new Mask(perExample, null, file, s[3]);
      }
      throw new IllegalArgumentException("--mask " + file + " has shape " + Arrays.toString(s) + "; expected "
          + "[H, W], [H, W, 1] or [H, W, " + channels + "] (one for every image), or [" + images + ", H, W, 1|"
          + channels + "] (one each), with H, W = " + perExample[0] + ", " + perExample[1]);
    }

    /** An [H, W, 1 or C] mask as [H, W, C] in {0, 1}. */
    private static float[] broadcast(Path file, float[] m, long[] shape, long[] perExample) {
      int channels = (int) perExample[2];
      if (shape[0] != perExample[0] || shape[1] != perExample[1] || (shape[2] != 1 && shape[2] != channels)) {
        throw new IllegalArgumentException("--mask " + file + " has shape " + Arrays.toString(shape) + "; the images"
            + " are " + Arrays.toString(perExample));
      }
      return binary(m, shape[2], channels);
    }

    /** Pixels of {@code from} channels (1 or {@code channels}) as 0/1 values of {@code channels} channels. */
    private static float[] binary(float[] m, long from, int channels) {
      float[] out = new float[Math.toIntExact(m.length / from * channels)];
      for (int i = 0; i < out.length; i++) {
        out[i] = m[(int) ((i / channels) * from + (from == 1 ? 0 : i % channels))] >= 0.5f ? 1 : 0;
      }
      return out;
    }

    FloatArray rows(long first, int n) {
      float[] out;
      if (shared != null) {
        out = new float[n * shared.length];
        for (int i = 0; i < n; i++) {
          System.arraycopy(shared, 0, out, i * shared.length, shared.length);
        }
      } else {
        try (Npy.Rows rows = Npy.Rows.open(file)) {
          out = binary(rows.read(first, n).data(), fileChannels, (int) perExample[2]);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      return new FloatArray(Tensors.batchShape(n, perExample), out);
    }
  }
}
