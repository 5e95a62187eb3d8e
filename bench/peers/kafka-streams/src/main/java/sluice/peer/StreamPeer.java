package sluice.peer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer of `sluice bench stream`: runs one job over a pre-produced input topic of
 * binary telemetry records and prints one JSON line with its throughput.
 *
 *   java -jar target/kafka-streams-peer.jar --brokers H:P --input T --output T --job map|window|window-eos
 *        --app-id ID [--window-ms 60000] [--commit-ms 100] [--cache-bytes 0] [--max-poll-records 1000]
 *
 * Jobs: map (decode → calibrate every metric → encode → output topic), window (tumbling window of
 * --window-ms per device: count/sum/min/max of temp, in-memory window store with its changelog,
 * one update per input record with the cache at 0), window-eos (the same with exactly_once_v2).
 * One stream thread. The clock runs from KafkaStreams.start() until the group's committed offsets
 * reach the input's end offsets (every output acknowledged: Streams commits only after flushing
 * its producer, or within the transaction).
 */
public final class StreamPeer {
  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
    String brokers = req(a, "brokers");
    String input = req(a, "input");
    String output = req(a, "output");
    String job = req(a, "job");
    String appId = req(a, "app-id");
    long windowMs = Long.parseLong(a.getOrDefault("window-ms", "60000"));
    String commitMs = a.getOrDefault("commit-ms", "100");
    String cacheBytes = a.getOrDefault("cache-bytes", "0");
    String maxPoll = a.getOrDefault("max-poll-records", "1000");

    AtomicLong firstRecordNanos = new AtomicLong();
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, Telemetry> source = builder
        .stream(input, Consumed.with(Serdes.String(), Telemetry.serde()))
        .peek((k, v) -> {
          if (firstRecordNanos.get() == 0) firstRecordNanos.set(System.nanoTime());
        });
    switch (job) {
      case "map" -> source
          .mapValues(t -> {
            for (int i = 0; i < t.values.length; i++) t.values[i] = t.values[i] * 1.01 + 0.5;
            return t;
          })
          .to(output, Produced.with(Serdes.String(), Telemetry.serde()));
      case "window", "window-eos" -> source
          .groupByKey(Grouped.with(Serdes.String(), Telemetry.serde()))
          .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(windowMs)))
          .aggregate(WindowAgg::new, (k, t, agg) -> agg.add(t),
              Materialized.<String, WindowAgg>as(Stores.inMemoryWindowStore("agg-store", Duration.ofMillis(windowMs), Duration.ofMillis(windowMs), false))
                  .withKeySerde(Serdes.String())
                  .withValueSerde(WindowAgg.serde()))
          .toStream()
          .mapValues((wk, agg) -> {
            agg.windowStart = wk.window().start();
            return agg;
          })
          .to(output, Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, windowMs), WindowAgg.serde()));
      default -> throw new IllegalArgumentException("--job must be map, window or window-eos");
    }
    Topology topology = builder.build();

    Path stateDir = Files.createTempDirectory("ks-peer-");
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, job.equals("window-eos") ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheBytes);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), maxPoll);

    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    try (Admin admin = Admin.create(ap)) {
      List<TopicPartition> parts = admin.describeTopics(List.of(input)).allTopicNames().get().get(input).partitions().stream()
          .map(pi -> new TopicPartition(input, pi.partition())).collect(Collectors.toList());
      Map<TopicPartition, Long> end = new HashMap<>();
      admin.listOffsets(parts.stream().collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()))).all().get()
          .forEach((tp, info) -> end.put(tp, info.offset()));
      long total = end.values().stream().mapToLong(Long::longValue).sum();

      KafkaStreams streams = new KafkaStreams(topology, p);
      long start = System.nanoTime();
      streams.start();
      long deadline = start + Duration.ofMinutes(10).toNanos();
      for (;;) {
        if (streams.state() == KafkaStreams.State.ERROR || streams.state() == KafkaStreams.State.NOT_RUNNING) throw new IllegalStateException("Kafka Streams stopped: " + streams.state());
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get();
        boolean done = true;
        for (TopicPartition tp : parts) {
          OffsetAndMetadata om = committed.get(tp);
          if (om == null || om.offset() < end.get(tp)) {
            done = false;
            break;
          }
        }
        if (done) break;
        if (System.nanoTime() > deadline) throw new IllegalStateException("timed out waiting for the committed offsets");
        Thread.sleep(20);
      }
      long stop = System.nanoTime();
      streams.close(Duration.ofSeconds(60));
      streams.cleanUp();
      double seconds = (stop - start) / 1e9;
      long first = firstRecordNanos.get();
      double startup = first == 0 ? 0 : (first - start) / 1e9;
      System.out.printf(java.util.Locale.ROOT,
          "{\"job\":\"%s\",\"records\":%d,\"seconds\":%.3f,\"recordsPerSec\":%d,\"startupSeconds\":%.3f,\"processingRecordsPerSec\":%d}%n",
          job, total, seconds, Math.round(total / seconds), startup, Math.round(total / Math.max(1e-9, seconds - startup)));
    }
    System.exit(0);
  }

  private static String req(Map<String, String> a, String name) {
    String v = a.get(name);
    if (v == null) throw new IllegalArgumentException("missing --" + name);
    return v;
  }

}
