package io.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.data.IdxDataset;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class EmbeddedDefaultTest {
  private static final int SANDAL = 5;
  private static final int SNEAKER = 7;
  private static final int ANKLE_BOOT = 9;
  /** Columns at each edge that are compared. */
  private static final int EDGE = 6;

  /**
   * The reason the default does not flip: the embedded shoes all face one way (toe to the left, so
   * the right edge holds more of the shoe than the left), and a flipped shoe is unlike the data.
   */
  @Test
  void theEmbeddedShoesFaceOneWaySoTheDefaultDoesNotFlip() throws IOException {
    IdxDataset data = EmbeddedDefault.dataset();
    int[] labels = data.labels();
    int size = (int) data.exampleShape()[1];
    float[] image = new float[size * size];
    for (int shoe : new int[] {SANDAL, SNEAKER, ANKLE_BOOT}) {
      int count = 0;
      int facingLeft = 0;
      for (int i = 0; i < data.size(); i++) {
        if (labels[i] != shoe) {
          continue;
        }
        data.read(i, image, 0);
        count++;
        if (edgeMass(image, size, size - EDGE) > edgeMass(image, size, 0)) {
          facingLeft++;
        }
      }
      assertTrue(count > 500, "class " + shoe + ": " + count + " images");
      assertTrue(facingLeft >= 0.9 * count, "class " + shoe + ": " + facingLeft + " of " + count + " face left");
    }
    assertFalse(EmbeddedDefault.options().build().augmentHorizontalFlip());
  }

  /** The summed intensity of the EDGE columns from {@code firstColumn} of a square image. */
  private static double edgeMass(float[] image, int size, int firstColumn) {
    double sum = 0;
    for (int row = 0; row < size; row++) {
      for (int col = firstColumn; col < firstColumn + EDGE; col++) {
        sum += image[row * size + col];
      }
    }
    return sum;
  }
}
