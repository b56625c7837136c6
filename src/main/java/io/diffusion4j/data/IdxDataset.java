package io.diffusion4j.data;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * MNIST-style idx files (MNIST, Fashion-MNIST, EMNIST...): unsigned-byte images [N, rows, cols]
 * read as [rows, cols, 1] examples with values / 255, and optionally their idx1 labels. Files may
 * be gzip-compressed, recognised by content rather than name. Everything is held in memory as
 * bytes (47 MB for MNIST's training set).
 */
public final class IdxDataset implements Dataset {
  private static final int UNSIGNED_BYTE = 0x08;

  private final Path imageFile;
  private final Path labelFile;
  private final byte[] pixels;
  private final int start;
  private final int count;
  private final int rows;
  private final int cols;
  private final int[] labels;

  private IdxDataset(Path imageFile, Path labelFile, Idx images, int[] labels) {
    this.imageFile = imageFile;
    this.labelFile = labelFile;
    this.pixels = images.bytes;
    this.start = images.dataStart;
    this.count = images.dims[0];
    this.rows = images.dims[1];
    this.cols = images.dims[2];
    this.labels = labels;
  }

  /** The images of idx3 file {@code images} with the labels of idx1 file {@code labels} (may be null). */
  public static IdxDataset open(Path images, Path labels) throws IOException {
    Idx im = Idx.read(images, 3);
    if (im.dims[0] == 0) {
      throw new IOException(images + ": holds no images");
    }
    int[] classes = null;
    if (labels != null) {
      Idx lab = Idx.read(labels, 1);
      if (lab.dims[0] != im.dims[0]) {
        throw new IOException(labels + " has " + lab.dims[0] + " labels but " + images + " has "
            + im.dims[0] + " images");
      }
      classes = new int[lab.dims[0]];
      for (int i = 0; i < classes.length; i++) {
        classes[i] = lab.bytes[lab.dataStart + i] & 0xff;
      }
    }
    return new IdxDataset(images, labels, im, classes);
  }

  @Override
  public int size() {
    return count;
  }

  @Override
  public long[] exampleShape() {
    return new long[] {rows, cols, 1};
  }

  @Override
  public void read(int index, float[] dst, int offset) {
    int n = rows * cols;
    for (int i = 0, s = start + index * n; i < n; i++, s++) {
      dst[offset + i] = (pixels[s] & 0xff) / 255f;
    }
  }

  @Override
  public int[] labels() {
    return labels == null ? null : labels.clone();
  }

  @Override
  public String describe() {
    return "idx " + imageFile + ": " + count + " images " + rows + "x" + cols
        + (labelFile == null ? ", unlabelled" : ", labels from " + labelFile);
  }

  /** A whole idx file (decompressed) with its dimensions. */
  private record Idx(byte[] bytes, int[] dims, int dataStart) {
    static Idx read(Path file, int rank) throws IOException {
      DataFiles.requireExists(file);
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length >= 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
          bytes = in.readAllBytes();
        } catch (IOException e) {
          throw new IOException(file + ": corrupt gzip data: " + e.getMessage(), e);
        }
      }
      String kind = "idx" + rank + " unsigned-byte file (magic 0x0000080" + rank + ")";
      if (bytes.length < 4) {
        throw new IOException(file + ": too short for an idx header (" + bytes.length + " bytes)");
      }
      if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != UNSIGNED_BYTE || bytes[3] != rank) {
        throw new IOException(String.format("%s: not an %s: magic 0x%02x%02x%02x%02x", file, kind,
            bytes[0], bytes[1], bytes[2], bytes[3]));
      }
      int dataStart = 4 + 4 * rank;
      if (bytes.length < dataStart) {
        throw new IOException(file + ": truncated idx header");
      }
      ByteBuffer header = ByteBuffer.wrap(bytes); // big-endian, as idx is
      int[] dims = new int[rank];
      for (int i = 0; i < rank; i++) {
        dims[i] = header.getInt(4 + 4 * i);
      }
      long needed = 1;
      for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || i > 0 && dims[i] == 0) {
          throw new IOException(file + ": bad dimensions " + Arrays.toString(dims));
        }
        // Stop once past the file's size, before the product can overflow.
        needed = needed > bytes.length ? needed : needed * dims[i];
      }
      if (bytes.length - dataStart < needed) {
        throw new IOException(file + ": truncated: dimensions " + Arrays.toString(dims)
            + " need more data than the " + (bytes.length - dataStart) + " bytes present");
      }
      return new Idx(bytes, dims, dataStart);
    }
  }
}
