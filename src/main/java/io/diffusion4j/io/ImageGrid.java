package io.diffusion4j.io;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;

/**
 * Sample grids laid out and quantized like torchvision's {@code make_grid} / {@code save_image},
 * so that images saved here compare pixel for pixel with the Python reference's.
 */
public final class ImageGrid {
  /** make_grid's default padding, in pixels. */
  public static final int DEFAULT_PADDING = 2;

  private ImageGrid() {}

  /**
   * Lays out {@code images} [N, H, W, C] (channels last, C in 1, 3, 4, values in [0, 1]) with
   * {@code nrow} images per row and {@code padding} zero pixels around and between them. As in
   * make_grid, a single image is returned without padding. Gives TYPE_BYTE_GRAY for C = 1,
   * TYPE_INT_RGB for 3, TYPE_INT_ARGB for 4 (padding is then transparent).
   */
  public static BufferedImage grid(FloatArray images, int nrow, int padding) {
    long[] shape = images.shape();
    if (shape.length != 4 || !(shape[3] == 1 || shape[3] == 3 || shape[3] == 4)) {
      throw new IllegalArgumentException("images must be [N, H, W, C] with C in 1, 3, 4; got shape "
          + Arrays.toString(shape));
    }
    if (shape[0] == 0 || shape[1] == 0 || shape[2] == 0) {
      throw new IllegalArgumentException("no pixels to draw in shape " + Arrays.toString(shape));
    }
    if (nrow < 1 || padding < 0) {
      throw new IllegalArgumentException("need nrow >= 1 and padding >= 0, got nrow " + nrow
          + ", padding " + padding);
    }
    int n = (int) shape[0];
    int h = Math.toIntExact(shape[1]);
    int w = Math.toIntExact(shape[2]);
    int c = (int) shape[3];
    int pad = n == 1 ? 0 : padding;
    int cols = Math.min(nrow, n);
    int rows = (n + cols - 1) / cols;
    int width = Math.addExact(Math.multiplyExact(cols, w + pad), pad);
    int height = Math.addExact(Math.multiplyExact(rows, h + pad), pad);
    int type = c == 1 ? BufferedImage.TYPE_BYTE_GRAY
        : c == 3 ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_INT_ARGB;
    BufferedImage image = new BufferedImage(width, height, type);
    byte[] grey = c == 1 ? ((DataBufferByte) image.getRaster().getDataBuffer()).getData() : null;
    int[] argb = c == 1 ? null : ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
    float[] data = images.data();
    for (int k = 0; k < n; k++) {
      int x0 = (k % cols) * (w + pad) + pad;
      int y0 = (k / cols) * (h + pad) + pad;
      for (int y = 0; y < h; y++) {
        int src = ((k * h + y) * w) * c;
        int dst = (y0 + y) * width + x0;
        for (int x = 0; x < w; x++, src += c, dst++) {
          if (c == 1) {
            grey[dst] = (byte) toByte(data[src]);
          } else {
            int alpha = c == 4 ? toByte(data[src + 3]) : 0xff;
            argb[dst] = alpha << 24 | toByte(data[src]) << 16 | toByte(data[src + 1]) << 8
                | toByte(data[src + 2]);
          }
        }
      }
    }
    return image;
  }

  /** Writes the grid with {@code nrow} images per row and the default padding as PNG, atomically. */
  public static void writePng(Path path, FloatArray images, int nrow) throws IOException {
    writePng(path, grid(images, nrow, DEFAULT_PADDING));
  }

  /** Writes an image as PNG, atomically. */
  public static void writePng(Path path, BufferedImage image) throws IOException {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    if (!ImageIO.write(image, "png", png)) {
      throw new IOException(path + ": no PNG writer available");
    }
    AtomicFiles.writeBytes(path, png.toByteArray());
  }

  /** Writes a square-ish grid: ceil(sqrt(N)) images per row. */
  public static void writePng(Path path, FloatArray images) throws IOException {
    long n = images.rank() > 0 ? images.shape()[0] : 0;
    writePng(path, images, Math.max(1, (int) Math.ceil(Math.sqrt(n))));
  }

  /** save_image's quantization: {@code mul(255).add_(0.5).clamp_(0, 255)}, then truncation; NaN is 0. */
  private static int toByte(float v) {
    float x = v * 255f + 0.5f;
    return x >= 255f ? 255 : x > 0f ? (int) x : 0;
  }
}
