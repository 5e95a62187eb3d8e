package sluice.peer;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A telemetry record in Sluice's binary telemetry format, version 1 (src/log/codecs/telemetry-codec.ts):
 *
 *   0   1        magic 0x54 ('T')
 *   1   1        format version, 1
 *   2   1        flags: bit 0 = seq present, bit 1 = tags present
 *   3   8        ts: float64 little-endian
 *   11  str      deviceId (str = unsigned LEB128 varint byte length, then UTF-8)
 *   …   varint   seq (only with flag bit 0)
 *   …   metrics  varint n, n × float64 LE values, varint byte length of the names block, n × str names
 *   …   varint   tag count m, then m × { str name, str value } (only with flag bit 1)
 */
public final class Telemetry {
  static final int MAGIC = 0x54;
  static final int VERSION = 1;

  public String deviceId;
  public double ts;
  /** -1 when absent. */
  public long seq = -1;
  public String[] names;
  public double[] values;
  /** name, value, name, value, … or null when absent. */
  public String[] tags;

  /** Decodes one record; throws IllegalArgumentException on malformed input. */
  public static Telemetry decode(byte[] b) {
    Reader r = new Reader(b);
    if (r.u8() != MAGIC) throw new IllegalArgumentException("bad magic byte");
    if (r.u8() != VERSION) throw new IllegalArgumentException("unsupported version");
    int flags = r.u8();
    if ((flags & ~3) != 0) throw new IllegalArgumentException("unknown flags");
    Telemetry t = new Telemetry();
    t.ts = r.f64();
    t.deviceId = r.str();
    if ((flags & 1) != 0) t.seq = r.varint();
    int n = (int) r.varint();
    t.values = new double[n];
    for (int i = 0; i < n; i++) t.values[i] = r.f64();
    long blockEnd = r.varint() + r.pos;
    t.names = new String[n];
    for (int i = 0; i < n; i++) t.names[i] = r.str();
    if (r.pos != blockEnd) throw new IllegalArgumentException("metric names block length mismatch");
    if ((flags & 2) != 0) {
      int m = (int) r.varint();
      t.tags = new String[2 * m];
      for (int i = 0; i < 2 * m; i++) t.tags[i] = r.str();
    }
    if (r.pos != b.length) throw new IllegalArgumentException("trailing bytes");
    return t;
  }

  /** Encodes this record. */
  public byte[] encode() {
    Writer w = new Writer(64 + 16 * values.length);
    w.u8(MAGIC);
    w.u8(VERSION);
    w.u8((seq >= 0 ? 1 : 0) | (tags != null ? 2 : 0));
    w.f64(ts);
    w.str(deviceId);
    if (seq >= 0) w.varint(seq);
    w.varint(values.length);
    for (double v : values) w.f64(v);
    byte[][] encoded = new byte[names.length][];
    int block = 0;
    for (int i = 0; i < names.length; i++) {
      encoded[i] = names[i].getBytes(StandardCharsets.UTF_8);
      block += varintSize(encoded[i].length) + encoded[i].length;
    }
    w.varint(block);
    for (byte[] e : encoded) w.bytes(e);
    if (tags != null) {
      w.varint(tags.length / 2);
      for (String s : tags) w.str(s);
    }
    return w.finish();
  }

  static int varintSize(long v) {
    int n = 1;
    while (v >= 0x80) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  /** The Serde of telemetry values. */
  public static Serde<Telemetry> serde() {
    Serializer<Telemetry> ser = (topic, t) -> t == null ? null : t.encode();
    Deserializer<Telemetry> de = (topic, b) -> b == null ? null : decode(b);
    return Serdes.serdeFrom(ser, de);
  }

  static final class Reader {
    final byte[] b;
    int pos;

    Reader(byte[] b) {
      this.b = b;
    }

    int u8() {
      if (pos >= b.length) throw new IllegalArgumentException("truncated");
      return b[pos++] & 0xff;
    }

    double f64() {
      if (pos + 8 > b.length) throw new IllegalArgumentException("truncated");
      long v = 0;
      for (int i = 7; i >= 0; i--) v = (v << 8) | (b[pos + i] & 0xffL);
      pos += 8;
      return Double.longBitsToDouble(v);
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 56; shift += 7) {
        int x = u8();
        v |= (long) (x & 0x7f) << shift;
        if ((x & 0x80) == 0) return v;
      }
      throw new IllegalArgumentException("varint too long");
    }

    String str() {
      int len = (int) varint();
      if (pos + len > b.length) throw new IllegalArgumentException("truncated string");
      String s = new String(b, pos, len, StandardCharsets.UTF_8);
      pos += len;
      return s;
    }
  }

  static final class Writer {
    byte[] b;
    int pos;

    Writer(int capacity) {
      b = new byte[capacity];
    }

    void ensure(int n) {
      if (pos + n > b.length) b = java.util.Arrays.copyOf(b, Math.max(b.length * 2, pos + n));
    }

    void u8(int v) {
      ensure(1);
      b[pos++] = (byte) v;
    }

    void f64(double d) {
      ensure(8);
      long v = Double.doubleToRawLongBits(d);
      for (int i = 0; i < 8; i++) b[pos++] = (byte) (v >>> (8 * i));
    }

    void varint(long v) {
      ensure(10);
      while (v >= 0x80) {
        b[pos++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      b[pos++] = (byte) v;
    }

    void bytes(byte[] e) {
      varint(e.length);
      ensure(e.length);
      System.arraycopy(e, 0, b, pos, e.length);
      pos += e.length;
    }

    void str(String s) {
      bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    byte[] finish() {
      return java.util.Arrays.copyOf(b, pos);
    }
  }
}
