package io.diffusion4j.cli;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the command-line tests train on: a few 8x8 grey images in a .npy and a Unet of dim 4 with
 * 10 timesteps, steps of milliseconds.
 */
record TinyRun(Path data, Path config) {
  static TinyRun in(Path dir, int examples) throws IOException {
    Path npy = dir.resolve("data.npy");
    float[] v = new float[examples * 8 * 8];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i * 37 % 11) / 10f;
    }
    Npy.write(npy, new FloatArray(new long[] {examples, 8, 8, 1}, v));
    Path config = Files.writeString(dir.resolve("tiny.json"), "{\"model\": {\"type\": \"Unet\", \"dim\": 4,"
        + " \"dim_mults\": [1, 2], \"channels\": 1, \"attn_heads\": 1, \"attn_dim_head\": 4},"
        + " \"diffusion\": {\"type\": \"GaussianDiffusion\", \"image_size\": 8, \"timesteps\": 10,"
        + " \"sampling_timesteps\": 2}}");
    return new TinyRun(npy, config);
  }
}
