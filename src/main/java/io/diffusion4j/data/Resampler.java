package io.diffusion4j.data;

/**
 * Fits an image to the training size the way the Python reference's transforms do:
 * torchvision's {@code Resize} (here: the smallest scale at which the image covers the target,
 * keeping its aspect) with PIL's antialiased bilinear filter, then {@code CenterCrop}.
 *
 * <p>The filter reproduces PIL's {@code Resample.c}: a triangle filter whose support grows with
 * the downscale factor, so shrinking averages over all covered pixels instead of aliasing, with
 * PIL's window bounds and edge renormalisation; horizontal pass first. It runs in float, where
 * PIL rounds 8-bit images to integers after each pass, so results may differ from PIL's by about
 * one grey level.
 */
final class Resampler {
  private Resampler() {}

  /**
   * Writes {@code src} [h, w, c] resized to cover [outH, outW] and centre-cropped to it into
   * {@code dst} from {@code offset} on. An image of the exact size is copied untouched. With
   * four channels the last is alpha and, as in PIL, colour is resampled premultiplied by it; that
   * case modifies {@code src}.
   */
  static void coverAndCrop(float[] src, int h, int w, int c, int outH, int outW, float[] dst, int offset) {
    if (h == outH && w == outW) {
      System.arraycopy(src, 0, dst, offset, src.length);
      return;
    }
    // Scale by the axis that needs more; the other axis rounds down, as torchvision does.
    int rh = outH;
    int rw = outW;
    if ((long) outH * w >= (long) outW * h) {
      rw = (int) ((long) outH * w / h);
    } else {
      rh = (int) ((long) outW * h / w);
    }
    // torchvision's crop offsets use Python's round(), which rounds halves to even.
    int top = (int) Math.rint((rh - outH) / 2.0);
    int left = (int) Math.rint((rw - outW) / 2.0);
    boolean alpha = c == 4;
    if (alpha) {
      premultiply(src, c);
    }
    Kernel across = Kernel.of(w, rw, left, outW);
    Kernel down = Kernel.of(h, rh, top, outH);
    float[] rows = new float[h * outW * c];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < outW; x++) {
        double[] k = across.weights[x];
        int from = (y * w + across.first[x]) * c;
        for (int ch = 0; ch < c; ch++) {
          double sum = 0;
          for (int i = 0; i < k.length; i++) {
            sum += k[i] * src[from + i * c + ch];
          }
          rows[(y * outW + x) * c + ch] = (float) sum;
        }
      }
    }
    int line = outW * c;
    for (int y = 0; y < outH; y++) {
      double[] k = down.weights[y];
      int from = down.first[y] * line;
      int to = offset + y * line;
      for (int j = 0; j < line; j++) {
        double sum = 0;
        for (int i = 0; i < k.length; i++) {
          sum += k[i] * rows[from + i * line + j];
        }
        dst[to + j] = (float) sum;
      }
    }
    if (alpha) {
      unpremultiply(dst, offset, outH * outW * c, c);
    }
  }

  private static void premultiply(float[] px, int c) {
    for (int p = 0; p < px.length; p += c) {
      for (int ch = 0; ch < c - 1; ch++) {
        px[p + ch] *= px[p + c - 1];
      }
    }
  }

  /** Back to straight alpha; fully transparent pixels keep their (zero) premultiplied colour. */
  private static void unpremultiply(float[] px, int offset, int length, int c) {
    for (int p = offset; p < offset + length; p += c) {
      float a = px[p + c - 1];
      if (a > 0) {
        for (int ch = 0; ch < c - 1; ch++) {
          px[p + ch] = Math.min(1f, px[p + ch] / a);
        }
      }
    }
  }

  /**
   * For output pixels {@code from .. from + count - 1} of a resize from {@code in} to {@code out}
   * pixels along one axis: the first input pixel each reads and the normalised weights.
   */
  private record Kernel(int[] first, double[][] weights) {
    static Kernel of(int in, int out, int from, int count) {
      double scale = (double) in / out;
      double filterScale = Math.max(1.0, scale);
      double support = filterScale; // the triangle's support is 1, widened when shrinking
      int[] first = new int[count];
      double[][] weights = new double[count][];
      for (int k = 0; k < count; k++) {
        double center = (from + k + 0.5) * scale;
        // (int) truncates toward zero, as the C casts in PIL do.
        int lo = Math.max(0, (int) (center - support + 0.5));
        int hi = Math.min(in, (int) (center + support + 0.5));
        double[] w = new double[Math.max(0, hi - lo)];
        double total = 0;
        for (int i = 0; i < w.length; i++) {
          w[i] = Math.max(0, 1 - Math.abs((lo + i - center + 0.5) / filterScale));
          total += w[i];
        }
        for (int i = 0; total != 0 && i < w.length; i++) {
          w[i] /= total;
        }
        first[k] = lo;
        weights[k] = w;
      }
      return new Kernel(first, weights);
    }
  }
}
