package io.diffusion4j.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (an 8-byte little-endian header length, a JSON header, raw
 * little-endian data), so that weights move between this project and PyTorch / Hugging Face
 * without pickle. Reads the common dtypes as float; writes F32 exactly as the reference writer
 * lays files out, and F64 where float32 would round (statistics).
 */
public final class Safetensors {
  private static final String METADATA = "__metadata__";
  /** The reference implementation's limit; anything larger is a corrupt length. */
  private static final long MAX_HEADER_BYTES = 100_000_000L;
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  private Safetensors() {}

  /** All tensors, in data order (the order they were written in), converted to float. */
  public static Map<String, FloatArray> read(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      Header header = readHeader(path, ch);
      Map<String, FloatArray> out = new LinkedHashMap<>();
      for (Entry e : entries(path, header)) {
        float[] data = e.type.readFloats(
            path, ch, header.dataStart + e.begin, (int) e.count, ByteOrder.LITTLE_ENDIAN);
        out.put(e.name, new FloatArray(e.shape, data));
      }
      return out;
    }
  }

  /** The free-form string metadata of the header; empty when the file has none. */
  public static Map<String, String> readMetadata(Path path) throws IOException {
    JsonElement meta;
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      meta = readHeader(path, ch).json.get(METADATA);
    }
    Map<String, String> out = new LinkedHashMap<>();
    if (meta == null || meta.isJsonNull()) {
      return out;
    }
    if (!meta.isJsonObject()) {
      throw bad(path, METADATA + " is not an object: " + meta);
    }
    for (Map.Entry<String, JsonElement> e : meta.getAsJsonObject().entrySet()) {
      JsonElement v = e.getValue();
      if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
        throw bad(path, METADATA + " value of '" + e.getKey() + "' is not a string: " + v);
      }
      out.put(e.getKey(), v.getAsString());
    }
    return out;
  }

  /**
   * A file's tensors as its header lists them, in data order, each read only when asked for:
   * combining many files a tensor at a time then holds one tensor of each, never whole files.
   */
  public static final class Index {
    private final Path path;
    private final long dataStart;
    private final Map<String, Entry> entries;

    private Index(Path path, long dataStart, Map<String, Entry> entries) {
      this.path = path;
      this.dataStart = dataStart;
      this.entries = entries;
    }

    /** The tensors' names and shapes, in data order. */
    public Map<String, long[]> shapes() {
      Map<String, long[]> out = new LinkedHashMap<>();
      entries.forEach((name, e) -> out.put(name, e.shape.clone()));
      return out;
    }

    /** Tensor {@code name} as float, read from the file now. */
    public FloatArray read(String name) throws IOException {
      Entry e = entries.get(name);
      if (e == null) {
        throw bad(path, "no tensor '" + name + "'");
      }
      try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
        return new FloatArray(e.shape.clone(),
            e.type.readFloats(path, ch, dataStart + e.begin, (int) e.count, ByteOrder.LITTLE_ENDIAN));
      }
    }
  }

  /** The header of {@code path}, checked as {@link #read} checks it, with no tensor read yet. */
  public static Index index(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      Header header = readHeader(path, ch);
      Map<String, Entry> entries = new LinkedHashMap<>();
      entries(path, header).forEach(e -> entries.put(e.name, e));
      return new Index(path, header.dataStart, entries);
    }
  }

  /** Gives the data of one tensor, by name, when the writer reaches it. */
  @FunctionalInterface
  public interface TensorSource {
    float[] data(String name) throws IOException;
  }

  /**
   * Writes F32 tensors of {@code shapes} in their iteration order, asking {@code source} for each
   * one's data only as it is written, so that only one tensor need be in memory; with optional
   * string {@code metadata}, atomically.
   */
  public static void write(Path path, Map<String, long[]> shapes, TensorSource source, Map<String, String> metadata)
      throws IOException {
    JsonObject json = header(metadata);
    long offset = 0;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      offset = describe(json, e.getKey(), NumericType.F32, e.getValue(), offset);
    }
    byte[] header = padded(json);
    AtomicFiles.write(path, out -> {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
      out.write(header);
      for (Map.Entry<String, long[]> e : shapes.entrySet()) {
        float[] data = source.data(e.getKey());
        FloatArray.checkShape(e.getValue(), data.length);
        NumericType.writeF32(out, data);
      }
    });
  }

  /**
   * Writes {@code tensors} as F32 in their iteration order, with optional string
   * {@code metadata} (null or empty for none), atomically.
   */
  public static void write(Path path, Map<String, FloatArray> tensors, Map<String, String> metadata)
      throws IOException {
    write(path, tensors, Map.of(), metadata);
  }

  /** As {@link #write(Path, Map, Map)}, followed by {@code doubles} as F64. */
  public static void write(Path path, Map<String, FloatArray> tensors, Map<String, DoubleArray> doubles,
      Map<String, String> metadata) throws IOException {
    JsonObject json = header(metadata);
    long offset = 0;
    for (Map.Entry<String, FloatArray> e : tensors.entrySet()) {
      offset = describe(json, e.getKey(), NumericType.F32, e.getValue().shape(), offset);
    }
    for (Map.Entry<String, DoubleArray> e : doubles.entrySet()) {
      offset = describe(json, e.getKey(), NumericType.F64, e.getValue().shape(), offset);
    }
    byte[] header = padded(json);
    AtomicFiles.write(path, out -> {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
      out.write(header);
      for (FloatArray a : tensors.values()) {
        NumericType.writeF32(out, a.data());
      }
      for (DoubleArray a : doubles.values()) {
        NumericType.writeF64(out, a.data());
      }
    });
  }

  /** A header holding {@code metadata} (null or empty for none) and no tensor yet. */
  private static JsonObject header(Map<String, String> metadata) {
    JsonObject json = new JsonObject();
    if (metadata != null && !metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        if (e.getValue() == null) {
          throw new IllegalArgumentException("metadata value of '" + e.getKey() + "' is null");
        }
        meta.addProperty(e.getKey(), e.getValue());
      }
      json.add(METADATA, meta);
    }
    return json;
  }

  /** The header's JSON padded with spaces to a multiple of 8 bytes, as the reference writer aligns the data. */
  private static byte[] padded(JsonObject json) {
    byte[] text = GSON.toJson(json).getBytes(StandardCharsets.UTF_8);
    byte[] header = Arrays.copyOf(text, (text.length + 7) / 8 * 8);
    Arrays.fill(header, text.length, header.length, (byte) ' ');
    return header;
  }

  /** Adds one tensor's header entry at {@code offset}; returns where the next one starts. */
  private static long describe(JsonObject json, String name, NumericType type, long[] shape, long offset) {
    if (name.equals(METADATA) || json.has(name)) {
      throw new IllegalArgumentException("tensor name " + name + (name.equals(METADATA) ? " is reserved" : " is used twice"));
    }
    JsonObject t = new JsonObject();
    t.addProperty("dtype", type.name());
    t.add("shape", longs(shape));
    long end = offset + type.size * NumericType.elementCount(shape);
    t.add("data_offsets", longs(offset, end));
    json.add(name, t);
    return end;
  }

  /** The F64 tensors at full precision ({@link #read} gives every tensor as float). */
  public static Map<String, DoubleArray> readDoubles(Path path) throws IOException {
    Map<String, DoubleArray> out = new LinkedHashMap<>();
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      Header header = readHeader(path, ch);
      for (Map.Entry<String, JsonElement> e : header.json.entrySet()) {
        if (!e.getKey().equals(METADATA)) {
          Entry t = entry(path, e.getKey(), e.getValue(), header.dataBytes);
          if (t.type == NumericType.F64) {
            out.put(t.name, new DoubleArray(t.shape,
                t.type.readDoubles(path, ch, header.dataStart + t.begin, (int) t.count, ByteOrder.LITTLE_ENDIAN)));
          }
        }
      }
    }
    return out;
  }

  private static JsonArray longs(long... values) {
    JsonArray a = new JsonArray();
    for (long v : values) {
      a.add(new JsonPrimitive(v));
    }
    return a;
  }

  private record Header(JsonObject json, long dataStart, long dataBytes) {}

  private record Entry(String name, NumericType type, long[] shape, long count, long begin) {}

  private static Header readHeader(Path path, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw bad(path, "file too short for safetensors (" + size + " bytes)");
    }
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(path, ch, len, 0);
    long n = len.getLong(0);
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw bad(path, "header length " + Long.toUnsignedString(n) + " exceeds the limit of "
          + MAX_HEADER_BYTES + " bytes");
    }
    if (n > size - 8) {
      throw bad(path, "truncated or not a safetensors file: its header length " + n + " is larger than the "
          + (size - 8) + " bytes after the length prefix");
    }
    ByteBuffer text = ByteBuffer.allocate((int) n);
    readFully(path, ch, text, 8);
    String json = new String(text.array(), StandardCharsets.UTF_8);
    JsonElement root;
    try {
      root = JsonParser.parseString(json);
    } catch (JsonParseException e) {
      throw bad(path, "malformed header JSON: " + e.getMessage());
    }
    if (!root.isJsonObject()) {
      throw bad(path, "header is not a JSON object: " + abbreviate(json));
    }
    return new Header(root.getAsJsonObject(), 8 + n, size - 8 - n);
  }

  /** Every tensor the header lists, checked, in data order. */
  private static List<Entry> entries(Path path, Header header) throws IOException {
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : header.json.entrySet()) {
      if (!e.getKey().equals(METADATA)) {
        entries.add(entry(path, e.getKey(), e.getValue(), header.dataBytes));
      }
    }
    entries.sort(Comparator.comparingLong(Entry::begin));
    return entries;
  }

  private static Entry entry(Path path, String name, JsonElement value, long dataBytes)
      throws IOException {
    String where = "tensor '" + name + "'";
    if (!value.isJsonObject()) {
      throw bad(path, where + " is not an object: " + abbreviate(value.toString()));
    }
    JsonObject o = value.getAsJsonObject();
    JsonElement dtype = o.get("dtype");
    if (!(dtype != null && dtype.isJsonPrimitive() && dtype.getAsJsonPrimitive().isString())) {
      throw bad(path, where + " has no string dtype");
    }
    NumericType type;
    try {
      type = NumericType.valueOf(dtype.getAsString());
    } catch (IllegalArgumentException e) {
      throw bad(path, where + " has unsupported dtype '" + dtype.getAsString() + "' (supported: "
          + Arrays.toString(NumericType.values()) + ")");
    }
    long[] shape = nonNegativeLongs(path, where + " shape", o.get("shape"));
    long[] offsets = nonNegativeLongs(path, where + " data_offsets", o.get("data_offsets"));
    if (offsets.length != 2) {
      throw bad(path, where + " data_offsets must hold [begin, end]: " + o.get("data_offsets"));
    }
    long count = NumericType.elementCount(shape);
    if (count > Integer.MAX_VALUE - 8) {
      throw bad(path, where + " shape " + Arrays.toString(shape)
          + " has too many elements for a Java array");
    }
    long begin = offsets[0];
    long end = offsets[1];
    if (begin > end || end > dataBytes) {
      throw bad(path, where + " data_offsets [" + begin + ", " + end
          + "] lie outside the data area of " + dataBytes + " bytes");
    }
    if (end - begin != count * type.size) {
      throw bad(path, where + " data_offsets [" + begin + ", " + end + "] span " + (end - begin)
          + " bytes but shape " + Arrays.toString(shape) + " of " + type + " needs " + count * type.size);
    }
    return new Entry(name, type, shape, count, begin);
  }

  private static long[] nonNegativeLongs(Path path, String what, JsonElement e) throws IOException {
    if (e == null || !e.isJsonArray()) {
      throw bad(path, what + " is missing or not a list: " + e);
    }
    JsonArray a = e.getAsJsonArray();
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = nonNegativeLong(a.get(i));
      if (out[i] < 0) {
        throw bad(path, what + " must hold non-negative integers: " + e);
      }
    }
    return out;
  }

  /** The value of an integral JSON number, or -1 for anything else. */
  private static long nonNegativeLong(JsonElement x) {
    if (!(x.isJsonPrimitive() && x.getAsJsonPrimitive().isNumber())) {
      return -1;
    }
    try {
      return x.getAsBigDecimal().longValueExact();
    } catch (ArithmeticException | NumberFormatException e) {
      return -1;
    }
  }

  private static void readFully(Path path, FileChannel ch, ByteBuffer buf, long position)
      throws IOException {
    while (buf.hasRemaining()) {
      if (ch.read(buf, position + buf.position()) < 0) {
        throw bad(path, "unexpected end of file");
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  private static IOException bad(Path path, String message) {
    return new IOException(path + ": " + message);
  }
}
