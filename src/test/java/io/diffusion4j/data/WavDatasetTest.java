package io.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WavDatasetTest {
  @TempDir Path dir;

  /** A chunk with its padding byte when the length is odd. */
  private static byte[] chunk(String id, byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(8 + body.length + (body.length & 1)).order(ByteOrder.LITTLE_ENDIAN);
    b.put(id.getBytes(StandardCharsets.ISO_8859_1)).putInt(body.length).put(body);
    return b.array();
  }

  /** fmt chunk body; WAVE_FORMAT_EXTENSIBLE when {@code extensible}. */
  private static byte[] fmt(int tag, int channels, int rate, int bits, boolean extensible) {
    ByteBuffer b = ByteBuffer.allocate(extensible ? 40 : 16).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort((short) (extensible ? 0xfffe : tag)).putShort((short) channels).putInt(rate)
        .putInt(rate * channels * bits / 8).putShort((short) (channels * bits / 8)).putShort((short) bits);
    if (extensible) {
      b.putShort((short) 22).putShort((short) bits).putInt(0).putShort((short) tag)
          .put(new byte[] {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xaa, 0, 0x38, (byte) 0x9b, 0x71});
    }
    return b.array();
  }

  /** A WAV file: an odd-sized LIST chunk before fmt, then data, then an unknown chunk. */
  private Path wav(String name, byte[] fmt, byte[] data) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes("WAVE".getBytes(StandardCharsets.ISO_8859_1));
    body.writeBytes(chunk("LIST", "odd".getBytes(StandardCharsets.ISO_8859_1)));
    body.writeBytes(chunk("fmt ", fmt));
    body.writeBytes(chunk("data", data));
    body.writeBytes(chunk("junk", new byte[] {1, 2, 3}));
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    return Files.write(file, chunk("RIFF", body.toByteArray()));
  }

  private static byte[] shorts(int... samples) {
    ByteBuffer b = ByteBuffer.allocate(2 * samples.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int s : samples) {
      b.putShort((short) s);
    }
    return b.array();
  }

  private static float[] read(WavDataset data, int index) throws IOException {
    float[] out = new float[data.exampleLength()];
    data.read(index, out, 0);
    return out;
  }

  @Test
  void sixteenBitMonoWindows() throws IOException {
    Path file = wav("mono.wav", fmt(1, 1, 16000, 16, false),
        shorts(0, 16384, -16384, -32768, 8192, 32767, 0, 0, 1, 2));
    WavDataset data = WavDataset.open(file, 4);
    assertEquals(2, data.size()); // 10 samples: two windows, the tail of 2 dropped
    assertArrayEquals(new long[] {4, 1}, data.exampleShape());
    assertEquals(16000, data.sampleRate());
    assertNull(data.labels());
    assertArrayEquals(new float[] {0.5f, 0.75f, 0.25f, 0}, read(data, 0));
    assertArrayEquals(new float[] {0.625f, (32767 / 32768f + 1) / 2, 0.5f, 0.5f}, read(data, 1));
    assertTrue(data.describe().contains("2 windows of 4 samples x 1 channel at 16000 Hz"), data.describe());
  }

  @Test
  void eightBitStereo() throws IOException {
    byte[] frames = {(byte) 128, (byte) 255, 0, (byte) 192, 64, 64};
    WavDataset data = WavDataset.open(wav("stereo.wav", fmt(1, 2, 8000, 8, false), frames), 3);
    assertEquals(1, data.size());
    assertArrayEquals(new long[] {3, 2}, data.exampleShape());
    assertArrayEquals(new float[] {0.5f, (127 / 128f + 1) / 2, 0, 0.75f, 0.25f, 0.25f}, read(data, 0));
  }

  @Test
  void wideIntegerAndFloatSamples() throws IOException {
    ByteBuffer b24 = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
    b24.put(new byte[] {0, 0, 0x40, 0, 0, (byte) 0xc0}); // 0x400000 and -0x400000
    WavDataset pcm24 = WavDataset.open(wav("a24.wav", fmt(1, 1, 44100, 24, true), b24.array()), 2);
    assertArrayEquals(new float[] {0.75f, 0.25f}, read(pcm24, 0));

    ByteBuffer b32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(1 << 30).putInt(-1 << 31);
    WavDataset pcm32 = WavDataset.open(wav("a32.wav", fmt(1, 1, 44100, 32, false), b32.array()), 2);
    assertArrayEquals(new float[] {0.75f, 0}, read(pcm32, 0));

    ByteBuffer f32 = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
        .putFloat(0.5f).putFloat(-0.25f).putFloat(2f);
    WavDataset floats = WavDataset.open(wav("f.wav", fmt(3, 1, 44100, 32, true), f32.array()), 3);
    assertArrayEquals(new float[] {0.75f, 0.375f, 1}, read(floats, 0));
  }

  @Test
  void folderOfFilesInOrder() throws IOException {
    wav("set/b.wav", fmt(1, 1, 16000, 16, false), shorts(16384, 16384, 16384, 16384, 16384));
    wav("set/a/x.WAV", fmt(1, 1, 16000, 16, false), shorts(0, 0, 0, 0));
    wav("set/c.wav", fmt(1, 1, 16000, 16, false), shorts(0)); // shorter than a window: unused
    WavDataset data = WavDataset.open(dir.resolve("set"), 2);
    assertEquals(4, data.size());
    assertArrayEquals(new float[] {0.5f, 0.5f}, read(data, 1));
    assertArrayEquals(new float[] {0.75f, 0.75f}, read(data, 2));
    assertArrayEquals(new float[] {0.75f, 0.75f}, read(data, 3));
  }

  @Test
  void clearErrors() throws IOException {
    Path mono = wav("mix/a.wav", fmt(1, 1, 16000, 16, false), shorts(1, 2, 3));
    wav("mix/b.wav", fmt(1, 2, 16000, 16, false), shorts(1, 2));
    IOException channels = assertThrows(IOException.class, () -> WavDataset.open(dir.resolve("mix"), 1));
    assertTrue(channels.getMessage().contains("same channel count"), channels.getMessage());
    assertTrue(channels.getMessage().contains("b.wav has 2"), channels.getMessage());

    wav("rates/a.wav", fmt(1, 1, 16000, 16, false), shorts(1));
    wav("rates/b.wav", fmt(1, 1, 22050, 16, false), shorts(1));
    IOException rates = assertThrows(IOException.class, () -> WavDataset.open(dir.resolve("rates"), 1));
    assertTrue(rates.getMessage().contains("22050 Hz"), rates.getMessage());

    IOException tooShort = assertThrows(IOException.class, () -> WavDataset.open(mono, 4));
    assertTrue(tooShort.getMessage().contains("no window of 4 samples"), tooShort.getMessage());
    assertTrue(tooShort.getMessage().contains("the longest file, " + mono + ", has 3 samples"),
        tooShort.getMessage());

    Path adpcm = wav("adpcm.wav", fmt(2, 1, 16000, 4, false), new byte[8]);
    IOException format = assertThrows(IOException.class, () -> WavDataset.open(adpcm, 1));
    assertTrue(format.getMessage().startsWith(adpcm + ": unsupported encoding"), format.getMessage());

    Path text = Files.writeString(dir.resolve("text.wav"), "hello, this is not audio");
    IOException riff = assertThrows(IOException.class, () -> WavDataset.open(text, 1));
    assertTrue(riff.getMessage().contains("not a RIFF WAVE file"), riff.getMessage());

    Path empty = Files.createDirectories(dir.resolve("none"));
    IOException none = assertThrows(IOException.class, () -> WavDataset.open(empty, 1));
    assertTrue(none.getMessage().contains("no .wav files"), none.getMessage());
  }
}
