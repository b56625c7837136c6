package io.diffusion4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Audio for 1-D diffusion: RIFF WAVE files cut into non-overlapping windows of
 * {@code windowLength} frames, each an example [windowLength, channels] with samples mapped from
 * [-1, 1] to [0, 1] as (x + 1) / 2, so that the model's auto-normalisation maps them back. A
 * file's tail shorter than a window is dropped. Windows are read from disk on demand (see
 * {@link WavFile} for the formats).
 */
public final class WavDataset implements Dataset {
  private final Path source;
  private final List<WavFile> files;
  /** The index of each file's first window, then the total: files.size() + 1 entries. */
  private final long[] firstWindow;
  private final int windowLength;
  private final int channels;
  private final int sampleRate;

  private WavDataset(Path source, List<WavFile> files, long[] firstWindow, int windowLength) {
    this.source = source;
    this.files = files;
    this.firstWindow = firstWindow;
    this.windowLength = windowLength;
    this.channels = files.get(0).channels();
    this.sampleRate = files.get(0).sampleRate();
  }

  /**
   * The windows of {@code fileOrFolder}: one WAV file, or all .wav files under a folder (sorted
   * by relative path). All files must share channel count and sample rate.
   */
  public static WavDataset open(Path fileOrFolder, int windowLength) throws IOException {
    if (windowLength < 1) {
      throw new IllegalArgumentException("window length must be positive, got " + windowLength);
    }
    DataFiles.requireExists(fileOrFolder);
    List<Path> paths = Files.isDirectory(fileOrFolder)
        ? DataFiles.find(fileOrFolder, Set.of("wav"))
        : List.of(fileOrFolder);
    if (paths.isEmpty()) {
      throw new IOException("no .wav files in " + fileOrFolder + " (searched recursively)");
    }
    List<WavFile> all = new ArrayList<>();
    for (Path p : paths) {
      WavFile f = WavFile.parse(p);
      WavFile first = all.isEmpty() ? f : all.get(0);
      if (f.channels() != first.channels()) {
        throw new IOException("all files must have the same channel count: " + first.path()
            + " has " + first.channels() + ", " + p + " has " + f.channels());
      }
      if (f.sampleRate() != first.sampleRate()) {
        throw new IOException("all files must have the same sample rate: " + first.path()
            + " has " + first.sampleRate() + " Hz, " + p + " has " + f.sampleRate() + " Hz");
      }
      all.add(f);
    }
    List<WavFile> used = all.stream().filter(f -> f.frames() >= windowLength).toList();
    if (used.isEmpty()) {
      WavFile longest = all.stream().max(Comparator.comparingLong(WavFile::frames)).orElseThrow();
      throw new IOException("no window of " + windowLength + " samples in " + fileOrFolder
          + ": the longest file, " + longest.path() + ", has " + longest.frames() + " samples");
    }
    long[] firstWindow = new long[used.size() + 1];
    for (int i = 0; i < used.size(); i++) {
      firstWindow[i + 1] = firstWindow[i] + used.get(i).frames() / windowLength;
    }
    if (firstWindow[used.size()] > Integer.MAX_VALUE) {
      throw new IOException(fileOrFolder + ": too many windows (" + firstWindow[used.size()]
          + "); use a longer window");
    }
    return new WavDataset(fileOrFolder, used, firstWindow, windowLength);
  }

  @Override
  public int size() {
    return (int) firstWindow[files.size()];
  }

  @Override
  public long[] exampleShape() {
    return new long[] {windowLength, channels};
  }

  @Override
  public void read(int index, float[] dst, int offset) throws IOException {
    int f = Arrays.binarySearch(firstWindow, index);
    // A miss gives -(insertion point) - 1; the window lies in the file before that point.
    f = f >= 0 ? f : -f - 2;
    files.get(f).read((index - firstWindow[f]) * windowLength, windowLength, dst, offset);
  }

  @Override
  public int[] labels() {
    return null;
  }

  /** The sample rate shared by all files, in Hz. */
  public int sampleRate() {
    return sampleRate;
  }

  @Override
  public String describe() {
    return "wav " + source + ": " + size() + " windows of " + windowLength + " samples x "
        + channels + " channel" + (channels == 1 ? "" : "s") + " at " + sampleRate + " Hz from "
        + files.size() + " file" + (files.size() == 1 ? "" : "s");
  }
}
