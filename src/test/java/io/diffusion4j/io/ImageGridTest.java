package io.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageGridTest {
  @TempDir Path dir;

  /** Two 2x3 grey images: image k pixel (y, x) = (k * 6 + y * 3 + x) / 11. */
  private static FloatArray twoGrey() {
    FloatArray a = FloatArray.zeros(2, 2, 3, 1);
    for (int i = 0; i < 12; i++) {
      a.data()[i] = i / 11f;
    }
    return a;
  }

  @Test
  void greyGridHasMakeGridLayout() {
    BufferedImage one = ImageGrid.grid(twoGrey(), 8, 2);
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, one.getType());
    assertEquals(2 * (3 + 2) + 2, one.getWidth());
    assertEquals(2 + 2 + 2, one.getHeight());
    Raster r = one.getRaster();
    assertEquals(0, r.getSample(0, 0, 0));
    assertEquals(0, r.getSample(2, 2, 0));
    assertEquals(23, r.getSample(3, 2, 0)); // 1/11*255 = 23.18
    assertEquals(93, r.getSample(3, 3, 0)); // 4/11*255 = 92.7
    assertEquals(116, r.getSample(4, 3, 0)); // 5/11*255 = 115.9
    assertEquals(139, r.getSample(2 + 5, 2, 0)); // image 1, (0, 0): 6/11*255 = 139.09
    assertEquals(255, r.getSample(4 + 5, 3, 0));
    assertEquals(0, r.getSample(5, 3, 0)); // padding between the images

    BufferedImage column = ImageGrid.grid(twoGrey(), 1, 1);
    assertEquals(3 + 2, column.getWidth());
    assertEquals(2 * (2 + 1) + 1, column.getHeight());
    assertEquals(139, column.getRaster().getSample(1, 4, 0));
  }

  @Test
  void rgbAndAlphaValues() {
    FloatArray rgb = new FloatArray(new long[] {2, 1, 1, 3}, new float[] {1f, 0.5f, -3f, 0.2f, 2f, Float.NaN});
    BufferedImage image = ImageGrid.grid(rgb, 2, 2);
    assertEquals(BufferedImage.TYPE_INT_RGB, image.getType());
    assertEquals(0xff_ff_80_00, image.getRGB(2, 2)); // 0.5*255+0.5 = 128
    assertEquals(0xff_33_ff_00, image.getRGB(5, 2)); // 0.2*255+0.5 = 51.5 -> 51
    assertEquals(0xff_00_00_00, image.getRGB(0, 0));

    FloatArray rgba = new FloatArray(new long[] {1, 1, 1, 4}, new float[] {0f, 1f, 0f, 0.5f});
    BufferedImage single = ImageGrid.grid(rgba, 4, 2);
    assertEquals(BufferedImage.TYPE_INT_ARGB, single.getType());
    assertEquals(1, single.getWidth()); // make_grid returns a single image unpadded
    assertEquals(0x80_00_ff_00, single.getRGB(0, 0));
  }

  @Test
  void badShapeIsNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ImageGrid.grid(FloatArray.zeros(2, 4, 4, 2), 2, 2));
    assertTrue(e.getMessage().contains("[2, 4, 4, 2]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.grid(FloatArray.zeros(4, 4, 3), 2, 2));
    assertTrue(e.getMessage().contains("[4, 4, 3]"), e.getMessage());
  }

  @Test
  void pngRoundTrip() throws IOException {
    Path grey = dir.resolve("out/grey.png");
    ImageGrid.writePng(grey, twoGrey());
    BufferedImage expected = ImageGrid.grid(twoGrey(), 2, 2);
    assertSamePixels(expected, ImageIO.read(grey.toFile()));

    FloatArray rgb = FloatArray.zeros(5, 3, 2, 3);
    for (int i = 0; i < rgb.data().length; i++) {
      rgb.data()[i] = (i * 37 % 101) / 100f;
    }
    Path colour = dir.resolve("rgb.png");
    ImageGrid.writePng(colour, rgb);
    BufferedImage read = ImageIO.read(colour.toFile());
    assertEquals(3 * (2 + 2) + 2, read.getWidth()); // ceil(sqrt(5)) = 3 per row
    assertEquals(2 * (3 + 2) + 2, read.getHeight());
    assertSamePixels(ImageGrid.grid(rgb, 3, 2), read);
  }

  private static void assertSamePixels(BufferedImage expected, BufferedImage actual) {
    assertEquals(expected.getWidth(), actual.getWidth());
    assertEquals(expected.getHeight(), actual.getHeight());
    assertEquals(expected.getRaster().getNumBands(), actual.getRaster().getNumBands());
    for (int y = 0; y < expected.getHeight(); y++) {
      for (int x = 0; x < expected.getWidth(); x++) {
        for (int b = 0; b < expected.getRaster().getNumBands(); b++) {
          assertEquals(expected.getRaster().getSample(x, y, b), actual.getRaster().getSample(x, y, b),
              "pixel " + x + "," + y + " band " + b);
        }
      }
    }
  }
}
