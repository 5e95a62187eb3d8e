package sluice.peer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The per-device window aggregate of the benchmark: count, sum, min and max of the `temp` metric,
 * and the window start. 40 bytes little-endian: int64 windowStart, int64 count, float64 sum, min,
 * max — the same layout as bench/stream-jobs.ts's aggregate codec.
 */
public final class WindowAgg {
  public long windowStart = -1;
  public long count;
  public double sum;
  public double min = Double.POSITIVE_INFINITY;
  public double max = Double.NEGATIVE_INFINITY;

  /** Folds one reading in (its `temp` metric, or its first metric when there is none). */
  public WindowAgg add(Telemetry t) {
    double v = t.values.length == 0 ? 0 : t.values[0];
    for (int i = 0; i < t.names.length; i++) {
      if (t.names[i].equals("temp")) {
        v = t.values[i];
        break;
      }
    }
    count++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    return this;
  }

  /** The Serde of aggregates. */
  public static Serde<WindowAgg> serde() {
    Serializer<WindowAgg> ser = (topic, a) -> {
      ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(a.windowStart).putLong(a.count).putDouble(a.sum).putDouble(a.min).putDouble(a.max);
      return b.array();
    };
    Deserializer<WindowAgg> de = (topic, bytes) -> {
      if (bytes == null) return null;
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      WindowAgg a = new WindowAgg();
      a.windowStart = b.getLong();
      a.count = b.getLong();
      a.sum = b.getDouble();
      a.min = b.getDouble();
      a.max = b.getDouble();
      return a;
    };
    return Serdes.serdeFrom(ser, de);
  }
}
