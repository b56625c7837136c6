package io.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderDatasetTest {
  @TempDir Path dir;

  /** Opens a folder holding just {@code image} (written as {@code format}) and reads it. */
  private float[] readOnly(BufferedImage image, String format, int h, int w, int c, String mode)
      throws IOException {
    Path folder = Files.createDirectories(dir.resolve("single-" + format + "-" + System.nanoTime()));
    write(image, format, folder.resolve("img." + format));
    ImageFolderDataset data = ImageFolderDataset.open(folder, h, w, c, mode);
    float[] out = new float[data.exampleLength()];
    data.read(0, out, 0);
    return out;
  }

  private static void write(BufferedImage image, String format, Path file) throws IOException {
    assertTrue(ImageIO.write(image, format, file.toFile()), "no ImageIO writer for " + format);
  }

  private static BufferedImage argb(int w, int h, int argb) {
    BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        im.setRGB(x, y, argb);
      }
    }
    return im;
  }

  private static void assertPixel(float[] px, int index, int c, float tolerance, float... expected) {
    for (int ch = 0; ch < c; ch++) {
      assertEquals(expected[ch], px[index * c + ch], tolerance, "channel " + ch + " of pixel " + index);
    }
  }

  @Test
  void rgbaToRgbDropsAlphaAndToLUsesPilLuma() throws IOException {
    BufferedImage im = argb(2, 2, 30 << 24 | 200 << 16 | 100 << 8 | 50);
    float[] rgb = readOnly(im, "png", 2, 2, 3, "RGB");
    assertPixel(rgb, 3, 3, 0, 200 / 255f, 100 / 255f, 50 / 255f);
    // 200 * 0.299 + 100 * 0.587 + 50 * 0.114 = 124.2 -> 124, as PIL gives.
    float[] l = readOnly(im, "png", 2, 2, 1, "L");
    assertPixel(l, 0, 1, 0, 124 / 255f);
    float[] rgba = readOnly(im, "png", 2, 2, 4, null);
    assertPixel(rgba, 1, 4, 0, 200 / 255f, 100 / 255f, 50 / 255f, 30 / 255f);
  }

  @Test
  void lumaRoundsAsPil() throws IOException {
    // 10 * 0.299 + 20 * 0.587 + 255 * 0.114 = 43.8 -> 44 (PIL rounds, the truncated formula gives 43).
    float[] l = readOnly(argb(1, 1, 0xff0a14ff), "png", 1, 1, 1, "L");
    assertEquals(44 / 255f, l[0], 0);
  }

  @Test
  void paletteImagesIncludingTransparency() throws IOException {
    byte[] r = {(byte) 255, 0, 10};
    byte[] g = {0, (byte) 255, 20};
    byte[] b = {0, 0, (byte) 250};
    IndexColorModel palette = new IndexColorModel(8, 3, r, g, b, 2);
    BufferedImage im = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, palette);
    im.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 1, 2});

    float[] rgba = readOnly(im, "png", 1, 3, 4, "RGBA");
    assertPixel(rgba, 0, 4, 0, 1, 0, 0, 1);
    assertPixel(rgba, 1, 4, 0, 0, 1, 0, 1);
    assertPixel(rgba, 2, 4, 0, 10 / 255f, 20 / 255f, 250 / 255f, 0);
    float[] rgb = readOnly(im, "png", 1, 3, 3, "RGB");
    assertPixel(rgb, 2, 3, 0, 10 / 255f, 20 / 255f, 250 / 255f);
    float[] l = readOnly(im, "png", 1, 3, 1, "L");
    assertPixel(l, 0, 1, 0, 76 / 255f); // (255 * 19595 + 32768) >> 16
    assertPixel(l, 1, 1, 0, 150 / 255f);

    BufferedImage opaque = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED,
        new IndexColorModel(8, 2, r, g, b));
    opaque.getRaster().setSamples(0, 0, 2, 1, 0, new int[] {1, 0});
    assertArrayEquals(new float[] {0, 1, 0, 1, 0, 0}, readOnly(opaque, "png", 1, 2, 3, null));
  }

  @Test
  void sixteenBitGreyKeepsFullPrecision() throws IOException {
    BufferedImage im = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    im.getRaster().setSamples(0, 0, 2, 1, 0, new int[] {1000, 40000});
    assertArrayEquals(new float[] {1000 / 65535f, 40000 / 65535f}, readOnly(im, "png", 1, 2, 1, null));
    assertArrayEquals(new float[] {1000 / 65535f, 40000 / 65535f}, readOnly(im, "tiff", 1, 2, 1, null));
    float[] rgb = readOnly(im, "png", 1, 2, 3, "RGB");
    assertPixel(rgb, 1, 3, 0, 40000 / 65535f, 40000 / 65535f, 40000 / 65535f);
  }

  @Test
  void sixteenBitRgbKeepsFullPrecision() throws IOException {
    ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB),
        false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
    WritableRaster raster = cm.createCompatibleWritableRaster(1, 1);
    raster.setPixel(0, 0, new int[] {65535, 1234, 50000});
    BufferedImage im = new BufferedImage(cm, raster, false, null);
    float[] rgb = readOnly(im, "png", 1, 1, 3, null);
    assertArrayEquals(new float[] {1, 1234 / 65535f, 50000 / 65535f}, rgb);
    float[] l = readOnly(im, "png", 1, 1, 1, null);
    long luma = (65535L * 19595 + 1234L * 38470 + 50000L * 7471 + 32768) >> 16;
    assertEquals(luma / 65535f, l[0], 0);
  }

  @Test
  void eightBitGreyIsNotColourManaged() throws IOException {
    BufferedImage im = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
    im.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 77, 255});
    // getRGB would turn the linear-grey 77 into about 154; PIL reads it as 77.
    assertArrayEquals(new float[] {0, 77 / 255f, 1}, readOnly(im, "png", 1, 3, 1, null));
    float[] rgba = readOnly(im, "png", 1, 3, 4, null);
    assertPixel(rgba, 1, 4, 0, 77 / 255f, 77 / 255f, 77 / 255f, 1);
  }

  @Test
  void greyWithAlpha() throws IOException {
    ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY),
        true, false, Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
    WritableRaster raster = cm.createCompatibleWritableRaster(1, 1);
    raster.setPixel(0, 0, new int[] {90, 40});
    BufferedImage im = new BufferedImage(cm, raster, false, null);
    assertArrayEquals(new float[] {90 / 255f}, readOnly(im, "png", 1, 1, 1, null));
    assertArrayEquals(new float[] {90 / 255f, 90 / 255f, 90 / 255f}, readOnly(im, "png", 1, 1, 3, null));
    assertArrayEquals(new float[] {90 / 255f, 90 / 255f, 90 / 255f, 40 / 255f},
        readOnly(im, "png", 1, 1, 4, null));
  }

  @Test
  void jpegBmpAndTiff() throws IOException {
    BufferedImage im = new BufferedImage(8, 8, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        im.setRGB(x, y, 200 << 16 | 100 << 8 | 50);
      }
    }
    float[] jpeg = readOnly(im, "jpg", 8, 8, 3, null);
    assertPixel(jpeg, 27, 3, 3 / 255f, 200 / 255f, 100 / 255f, 50 / 255f);
    float[] bmp = readOnly(im, "bmp", 8, 8, 3, null);
    assertPixel(bmp, 63, 3, 0, 200 / 255f, 100 / 255f, 50 / 255f);
    float[] tiff = readOnly(im, "tiff", 8, 8, 3, null);
    assertPixel(tiff, 10, 3, 0, 200 / 255f, 100 / 255f, 50 / 255f);
  }

  @Test
  void resizeCoversThenCropsTheCentre() throws IOException {
    // 12 wide, 6 high, v = 10x + 20y: shrinks by 2 to 6x3, then columns 2..4 are kept.
    BufferedImage im = new BufferedImage(12, 6, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 6; y++) {
      for (int x = 0; x < 12; x++) {
        im.getRaster().setSample(x, y, 0, 10 * x + 20 * y);
      }
    }
    float[] out = readOnly(im, "png", 3, 3, 1, null);
    // Output column j averages input columns 2(j+2) and 2(j+2)+1 (a symmetric tent), so it has
    // the gradient's value at x = 2(j+2) + 0.5. Rows are PIL's: the tent is cut at the top
    // edge and renormalised, giving y = 1.25 / 1.75 for row 0 and 7.5 / 1.75 for row 2.
    double[] ys = {1.25 / 1.75, 2.5, 7.5 / 1.75};
    for (int y = 0; y < 3; y++) {
      for (int j = 0; j < 3; j++) {
        double expected = (10 * (2 * (j + 2) + 0.5) + 20 * ys[y]) / 255;
        assertEquals(expected, out[y * 3 + j], 1e-5, "pixel " + y + "," + j);
      }
    }
  }

  @Test
  void nonSquareTargetAndExactSizePassThrough() throws IOException {
    BufferedImage im = new BufferedImage(12, 6, BufferedImage.TYPE_BYTE_GRAY);
    for (int x = 0; x < 12; x++) {
      for (int y = 0; y < 6; y++) {
        im.getRaster().setSample(x, y, 0, 20 * x + y);
      }
    }
    // Covering 4 x 2 needs scale 2/3: 8 wide, 4 high; the crop keeps columns 3 and 4.
    Path folder = Files.createDirectories(dir.resolve("wide"));
    write(im, "png", folder.resolve("a.png"));
    ImageFolderDataset data = ImageFolderDataset.open(folder, 4, 2, 1, "L");
    assertArrayEquals(new long[] {4, 2, 1}, data.exampleShape());
    float[] out = new float[8];
    data.read(0, out, 0);
    // Resized column 3 is centred on input x = 3.5 * 1.5 - 0.5 = 4.75, well inside the image.
    assertEquals((20 * 4.75 + 2.5) / 255, out[0], 0.01);

    float[] same = readOnly(im, "png", 6, 12, 1, null);
    for (int y = 0; y < 6; y++) {
      for (int x = 0; x < 12; x++) {
        assertEquals((20 * x + y) / 255f, same[y * 12 + x], 0);
      }
    }
  }

  @Test
  void rgbaIsResampledPremultipliedAsInPil() throws IOException {
    // Left column opaque red, right column fully transparent blue; shrunk to one pixel.
    BufferedImage im = new BufferedImage(2, 2, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < 2; y++) {
      im.setRGB(0, y, 0xffff0000);
      im.setRGB(1, y, 0x000000ff);
    }
    float[] px = readOnly(im, "png", 1, 1, 4, null);
    assertArrayEquals(new float[] {1, 0, 0, 0.5f}, px, 1e-6f);
  }

  @Test
  void labelsFromSubFolders() throws IOException {
    Path folder = dir.resolve("classes");
    for (String name : List.of("dog/b.png", "cat/x/deep.PNG", "dog/a.jpeg", "cat/a.png")) {
      Path file = folder.resolve(name);
      Files.createDirectories(file.getParent());
      BufferedImage grey = new BufferedImage(3, 3, BufferedImage.TYPE_INT_RGB);
      write(grey, name.endsWith("jpeg") ? "jpg" : "png", file);
    }
    Files.writeString(folder.resolve("cat/notes.txt"), "not an image");
    ImageFolderDataset data = ImageFolderDataset.open(folder, 2, 2, 3, null);
    assertEquals(4, data.size());
    assertEquals(List.of("cat", "dog"), data.classNames());
    assertEquals(List.of("cat/a.png", "cat/x/deep.PNG", "dog/a.jpeg", "dog/b.png"),
        data.files().stream().map(f -> DataFiles.relative(folder, f)).toList());
    assertArrayEquals(new int[] {0, 0, 1, 1}, data.labels());
    assertTrue(data.describe().contains("4 images, 2 classes"), data.describe());

    Path flat = Files.createDirectories(dir.resolve("flat"));
    write(argb(3, 3, 0xff808080), "png", flat.resolve("one.png"));
    ImageFolderDataset unlabelled = ImageFolderDataset.open(flat, 2, 2, 3, null);
    assertNull(unlabelled.labels());
    assertEquals(List.of(), unlabelled.classNames());
  }

  @Test
  void clearErrors() throws IOException {
    IOException missing = assertThrows(IOException.class,
        () -> ImageFolderDataset.open(dir.resolve("nope"), 8, 8, 3, null));
    assertTrue(missing.getMessage().endsWith("nope does not exist"), missing.getMessage());

    Path empty = Files.createDirectories(dir.resolve("empty"));
    Files.writeString(empty.resolve("readme.txt"), "hi");
    IOException none = assertThrows(IOException.class, () -> ImageFolderDataset.open(empty, 8, 8, 3, null));
    assertTrue(none.getMessage().contains("no images in " + empty), none.getMessage());
    assertTrue(none.getMessage().contains("bmp, jpeg, jpg, png, tif, tiff"), none.getMessage());

    IOException file = assertThrows(IOException.class,
        () -> ImageFolderDataset.open(empty.resolve("readme.txt"), 8, 8, 3, null));
    assertTrue(file.getMessage().contains("is not a folder"), file.getMessage());

    Path corrupt = Files.createDirectories(dir.resolve("corrupt"));
    Files.writeString(corrupt.resolve("broken.png"), "definitely not a PNG");
    IOException bad = assertThrows(IOException.class, () -> ImageFolderDataset.open(corrupt, 8, 8, 3, null));
    assertTrue(bad.getMessage().contains("broken.png"), bad.getMessage());

    Path later = Files.createDirectories(dir.resolve("later"));
    write(argb(3, 3, 0xff808080), "png", later.resolve("a.png"));
    byte[] png = Files.readAllBytes(later.resolve("a.png"));
    Files.write(later.resolve("b.png"), java.util.Arrays.copyOf(png, png.length / 2));
    ImageFolderDataset data = ImageFolderDataset.open(later, 3, 3, 3, null);
    IOException truncated = assertThrows(IOException.class, () -> data.read(1, new float[27], 0));
    assertTrue(truncated.getMessage().contains("b.png"), truncated.getMessage());

    IllegalArgumentException mode = assertThrows(IllegalArgumentException.class,
        () -> ImageFolderDataset.open(later, 3, 3, 1, "RGB"));
    assertTrue(mode.getMessage().contains("RGB has 3 channels, but 1 were asked for"), mode.getMessage());
    IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
        () -> ImageFolderDataset.open(later, 3, 3, 2, null));
    assertTrue(channels.getMessage().contains("cannot have 2 channels"), channels.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ImageFolderDataset.open(later, 3, 3, 4, "CMYK"));
  }
}
