package io.diffusion4j.data;

import java.util.Locale;

/** The pixel modes training images are converted to, named and behaving as in PIL. */
enum ImageMode {
  L(1),
  RGB(3),
  RGBA(4);

  final int channels;

  ImageMode(int channels) {
    this.channels = channels;
  }

  /**
   * The mode called {@code name} ("L", "RGB", "RGBA", any case), or when it is null the mode with
   * {@code channels} channels; either way its channel count must be {@code channels}.
   */
  static ImageMode resolve(String name, int channels) {
    if (name == null) {
      return switch (channels) {
        case 1 -> L;
        case 3 -> RGB;
        case 4 -> RGBA;
        default -> throw new IllegalArgumentException("images cannot have " + channels
            + " channels: use 1 (L), 3 (RGB) or 4 (RGBA)");
      };
    }
    ImageMode mode;
    try {
      mode = valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown image mode '" + name + "': use L, RGB or RGBA");
    }
    if (mode.channels != channels) {
      throw new IllegalArgumentException("image mode " + mode + " has " + mode.channels
          + " channel" + (mode.channels == 1 ? "" : "s") + ", but " + channels + " were asked for");
    }
    return mode;
  }
}
