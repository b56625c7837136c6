package io.diffusion4j.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An image's samples as stored in the file, before mode conversion: grey, grey+alpha, RGB or
 * RGBA ({@code bands} 1 to 4, interleaved, row-major), as integers from 0 to {@code max}: 255 for
 * 8-bit and palette images, 65535 for deeper ones, whose precision is kept.
 *
 * <p>Samples are read from the raster rather than through {@link BufferedImage#getRGB}, whose
 * colour management would change grey levels (Java treats PNG grey as linear) and drop the 16-bit
 * precision. Like PIL, embedded colour profiles are ignored.
 */
record DecodedImage(int height, int width, int bands, int max, int[] samples) {

  /** Decodes {@code file} with javax.imageio; errors name the file. */
  static DecodedImage decode(Path file) throws IOException {
    try {
      return of(readImage(file));
    } catch (IOException | RuntimeException e) {
      String why = e.getMessage() != null ? e.getMessage() : e.toString();
      throw new IOException("cannot decode image " + file + ": " + why, e);
    }
  }

  private static BufferedImage readImage(Path file) throws IOException {
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) {
        throw new IOException("cannot open the file");
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new IOException("not a PNG, JPEG, BMP or TIFF image");
      }
      ImageReader reader = readers.next();
      try {
        // Metadata must be read: PNG transparency (tRNS) is part of it.
        reader.setInput(in, true, false);
        return reader.read(0);
      } finally {
        reader.dispose();
      }
    }
  }

  /** The samples of {@code image}, which may be modified (alpha is un-premultiplied in place). */
  static DecodedImage of(BufferedImage image) {
    ColorModel cm = image.getColorModel();
    if (cm instanceof IndexColorModel palette) {
      return ofPalette(image.getRaster(), palette);
    }
    int type = cm.getColorSpace().getType();
    int colours = cm.getNumColorComponents();
    boolean raw = type == ColorSpace.TYPE_GRAY && colours == 1 || type == ColorSpace.TYPE_RGB && colours == 3;
    return raw ? ofComponents(image, cm) : ofRgb(image);
  }

  /** Palette images become RGB, or RGBA when the palette has transparency (as PIL's P mode). */
  private static DecodedImage ofPalette(Raster raster, IndexColorModel palette) {
    int h = raster.getHeight();
    int w = raster.getWidth();
    int bands = palette.hasAlpha() ? 4 : 3;
    int[] index = raster.getSamples(0, 0, w, h, 0, (int[]) null);
    int[] samples = new int[h * w * bands];
    for (int i = 0, s = 0; i < index.length; i++, s += bands) {
      int p = index[i];
      samples[s] = palette.getRed(p);
      samples[s + 1] = palette.getGreen(p);
      samples[s + 2] = palette.getBlue(p);
      if (bands == 4) {
        samples[s + 3] = palette.getAlpha(p);
      }
    }
    return new DecodedImage(h, w, bands, 255, samples);
  }

  /** Grey or RGB samples, with alpha if any, rescaled from their bit depth to 0..max. */
  private static DecodedImage ofComponents(BufferedImage image, ColorModel cm) {
    if (cm.isAlphaPremultiplied()) {
      image.coerceData(false);
    }
    Raster raster = image.getRaster();
    int h = raster.getHeight();
    int w = raster.getWidth();
    int bands = cm.getNumComponents();
    int dataType = raster.getDataBuffer().getDataType();
    // Float and double samples are normalised to [0, 1] already.
    boolean floating = dataType == DataBuffer.TYPE_FLOAT || dataType == DataBuffer.TYPE_DOUBLE;
    int depth = 0;
    for (int b = 0; b < bands; b++) {
      depth = Math.max(depth, cm.getComponentSize(b));
    }
    int max = !floating && depth <= 8 ? 255 : 65535;
    int[] samples = new int[h * w * bands];
    double[] row = new double[w];
    for (int b = 0; b < bands; b++) {
      double scale = floating ? max : (double) max / ((1L << cm.getComponentSize(b)) - 1);
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, b, row);
        for (int x = 0, s = y * w * bands + b; x < w; x++, s += bands) {
          samples[s] = (int) Math.max(0, Math.min(max, Math.round(row[x] * scale)));
        }
      }
    }
    return new DecodedImage(h, w, bands, max, samples);
  }

  /** Any other colour space (CMYK, YCCK...) goes through Java's conversion to 8-bit sRGB. */
  private static DecodedImage ofRgb(BufferedImage image) {
    int h = image.getHeight();
    int w = image.getWidth();
    int bands = image.getColorModel().hasAlpha() ? 4 : 3;
    int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
    int[] samples = new int[h * w * bands];
    for (int i = 0, s = 0; i < argb.length; i++, s += bands) {
      samples[s] = argb[i] >> 16 & 0xff;
      samples[s + 1] = argb[i] >> 8 & 0xff;
      samples[s + 2] = argb[i] & 0xff;
      if (bands == 4) {
        samples[s + 3] = argb[i] >>> 24;
      }
    }
    return new DecodedImage(h, w, bands, 255, samples);
  }

  /**
   * The pixels in {@code mode}, [height, width, channels] in [0, 1], converted as PIL's
   * {@code Image.convert} does: alpha is dropped, not composited, when going to L or RGB; grey is
   * copied to R, G and B; missing alpha is opaque; L is the ITU-R 601-2 luma in PIL's fixed-point
   * form, (R * 19595 + G * 38470 + B * 7471 + 32768) >> 16 (R * 299/1000 + G * 587/1000 +
   * B * 114/1000, rounded), so 8-bit results equal PIL's exactly.
   */
  float[] convert(ImageMode mode) {
    int c = mode.channels;
    float[] out = new float[height * width * c];
    float scale = max;
    boolean grey = bands <= 2;
    for (int s = 0, d = 0; d < out.length; s += bands, d += c) {
      int r = samples[s];
      int g = grey ? r : samples[s + 1];
      int b = grey ? r : samples[s + 2];
      switch (mode) {
        case L -> out[d] = (grey ? r : luma(r, g, b)) / scale;
        case RGB, RGBA -> {
          out[d] = r / scale;
          out[d + 1] = g / scale;
          out[d + 2] = b / scale;
          if (mode == ImageMode.RGBA) {
            out[d + 3] = (bands == 2 || bands == 4 ? samples[s + bands - 1] : max) / scale;
          }
        }
      }
    }
    return out;
  }

  private static int luma(int r, int g, int b) {
    return (int) ((r * 19595L + g * 38470L + b * 7471L + 0x8000) >> 16);
  }
}
