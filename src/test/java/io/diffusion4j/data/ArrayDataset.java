package io.diffusion4j.data;

import io.diffusion4j.io.FloatArray;
import java.util.Arrays;

/** Examples held in memory, [N, ...example] in [0, 1], unlabelled: a dataset for tests. */
public record ArrayDataset(FloatArray examples, String describe) implements Dataset {

  @Override
  public int size() {
    return (int) examples.shape()[0];
  }

  @Override
  public long[] exampleShape() {
    return Arrays.copyOfRange(examples.shape(), 1, examples.shape().length);
  }

  @Override
  public void read(int index, float[] dst, int offset) {
    System.arraycopy(examples.data(), index * exampleLength(), dst, offset, exampleLength());
  }

  @Override
  public int[] labels() {
    return null;
  }
}
