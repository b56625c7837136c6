package io.diffusion4j.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.tensorflow.proto.Event;

/**
 * Reads TensorBoard event files as TensorBoard does: TFRecord framing (length, masked CRC-32C of
 * the length, data, masked CRC-32C of the data), each record an Event proto. Every CRC is checked.
 */
public final class EventFiles {
  private EventFiles() {}

  /** The events of every {@code events.out.tfevents.*} file in {@code folder}, file by file in name order. */
  public static List<List<Event>> read(Path folder) throws IOException {
    List<List<Event>> files = new ArrayList<>();
    try (Stream<Path> list = Files.list(folder)) {
      for (Path f : list.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList()) {
        files.add(records(Files.readAllBytes(f), f));
      }
    }
    return files;
  }

  static List<Event> records(byte[] bytes, Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    List<Event> events = new ArrayList<>();
    while (b.hasRemaining()) {
      if (b.remaining() < 12) {
        throw new IOException(file + ": truncated record header at " + b.position());
      }
      byte[] length = new byte[8];
      b.get(length);
      check(length, b.getInt(), file, "length");
      long n = ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (n < 0 || n > b.remaining() - 4) {
        throw new IOException(file + ": record of " + n + " bytes runs past the end");
      }
      byte[] data = new byte[(int) n];
      b.get(data);
      check(data, b.getInt(), file, "data");
      events.add(Event.parseFrom(data));
    }
    return events;
  }

  private static void check(byte[] bytes, int stored, Path file, String what) throws IOException {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    int c = (int) crc.getValue();
    int masked = ((c >>> 15) | (c << 17)) + 0xa282ead8;
    if (masked != stored) {
      throw new IOException(file + ": bad CRC of a record's " + what + " " + Arrays.toString(Arrays.copyOf(bytes, 8)));
    }
  }
}
