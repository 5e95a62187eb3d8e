/**
 * Topic management on Kafka: CreateTopics with the topic configs, DeleteTopics, Metadata,
 * DescribeConfigs and ListOffsets (earliest/latest) for describeTopic.
 */
import type { Admin as KafkaAdmin } from '@platformatic/kafka';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { Admin, CreateTopicOptions, PartitionInfo, TopicConfig, TopicDescription } from '../types.ts';
import { assertOpen, assertTopicName, resolveTopicConfig } from '../validate.ts';
import { type TopicCache, unknownTopic } from './client.ts';
import { brokerErrorId, isUnknownTopic, toSluiceError } from './errors.ts';

/** ListOffsets timestamps with a special meaning. */
export const EARLIEST = -2n;
/** The end of a partition (the high watermark, or the last stable offset when read committed). */
export const LATEST = -1n;

/** Largest record batch a topic made here accepts. */
export const TOPIC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** ConfigResource type of a topic in DescribeConfigs. */
const TOPIC_RESOURCE = 2;
/** DescribeConfigs config source meaning "set on this topic". */
const DYNAMIC_TOPIC_CONFIG = 1;

/** Kafka topic configs for a Sluice topic config (null retention = -1 = unlimited). */
export function topicConfigEntries(config: TopicConfig): { name: string; value: string }[] {
  const entries = [
    { name: 'retention.ms', value: String(config.retentionMs ?? -1) },
    { name: 'retention.bytes', value: String(config.retentionBytes ?? -1) },
    { name: 'cleanup.policy', value: config.cleanupPolicy },
    // Room for a record of the default maxRecordBytes (1 MiB) plus batch overhead; sends are cut
    // into requests of at most REQUEST_BYTES (records.ts), so batches stay below this.
    { name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) },
  ];
  if (config.segmentMs !== null) entries.push({ name: 'segment.ms', value: String(config.segmentMs) });
  return entries;
}

/** Earliest or latest offsets of every partition of a topic, by partition. */
export async function listOffsets(admin: KafkaAdmin, topic: string, partitions: readonly number[], timestamp: bigint): Promise<Map<number, number>> {
  let result;
  try {
    result = await admin.listOffsets({
      topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
      isolationLevel: 0,
    });
  } catch (error) {
    if (isUnknownTopic(error)) throw unknownTopic(topic, error);
    throw toSluiceError(error, `listing offsets of '${topic}'`, { topic });
  }
  const out = new Map<number, number>();
  for (const t of result) for (const p of t.partitions) out.set(p.partitionIndex, Number(p.offset));
  return out;
}

/** The Kafka implementation of {@link Admin}. */
export class KafkaAdminApi implements Admin {
  readonly #admin: KafkaAdmin;
  readonly #topics: TopicCache;
  #closed = false;

  constructor(admin: KafkaAdmin, topics: TopicCache) {
    this.#admin = admin;
    this.#topics = topics;
  }

  /** Marks this admin closed (the Log owns the connection). */
  markClosed(): void {
    this.#closed = true;
  }

  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<void> {
    assertOpen(this.#closed, 'admin');
    const config = resolveTopicConfig(name, options);
    this.#topics.forget(name);
    try {
      await this.#admin.createTopics({ topics: [name], partitions: config.partitions, replicas: -1, configs: topicConfigEntries(config) });
    } catch (error) {
      if (brokerErrorId(error) === 'TOPIC_ALREADY_EXISTS') {
        throw new SluiceError(ErrorCode.LOG_TOPIC_EXISTS, `topic '${name}' already exists`, { cause: error, details: { topic: name } });
      }
      throw toSluiceError(error, `creating topic '${name}'`, { topic: name });
    }
    await this.#waitForTopic(name);
  }

  /** Waits until the new topic's partitions have leaders, so that sends right after work. */
  async #waitForTopic(name: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const info = await this.#topics.get(name, true);
        if (info.leaders.every((l) => l >= 0)) return;
      } catch (error) {
        if (!(error instanceof SluiceError && error.code === ErrorCode.LOG_UNKNOWN_TOPIC) || Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async deleteTopic(name: string): Promise<void> {
    assertOpen(this.#closed, 'admin');
    assertTopicName(name);
    this.#topics.forget(name);
    try {
      await this.#admin.deleteTopics({ topics: [name] });
    } catch (error) {
      if (isUnknownTopic(error)) throw unknownTopic(name, error);
      throw toSluiceError(error, `deleting topic '${name}'`, { topic: name });
    }
    this.#topics.forget(name);
  }

  async listTopics(): Promise<string[]> {
    assertOpen(this.#closed, 'admin');
    try {
      const names = await this.#admin.listTopics({ includeInternals: false });
      return names.filter((n) => !n.startsWith('__')).sort();
    } catch (error) {
      throw toSluiceError(error, 'listing topics');
    }
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    assertOpen(this.#closed, 'admin');
    const info = await this.#topics.get(name, true);
    const ids = Array.from({ length: info.partitions }, (_, i) => i);
    const [config, starts, ends] = await Promise.all([
      this.#describeConfig(name, info.partitions),
      listOffsets(this.#admin, name, ids, EARLIEST),
      listOffsets(this.#admin, name, ids, LATEST),
    ]);
    const partitions: PartitionInfo[] = ids.map((partition) => ({
      partition,
      startOffset: starts.get(partition) ?? 0,
      endOffset: ends.get(partition) ?? 0,
    }));
    return { name, config, partitions };
  }

  async #describeConfig(name: string, partitions: number): Promise<TopicConfig> {
    let described;
    try {
      described = await this.#admin.describeConfigs({
        resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configurationKeys: ['retention.ms', 'retention.bytes', 'cleanup.policy', 'segment.ms'] }],
      });
    } catch (error) {
      if (isUnknownTopic(error)) throw unknownTopic(name, error);
      throw toSluiceError(error, `describing topic '${name}'`, { topic: name });
    }
    const values = new Map<string, { value: string | null; source: number }>();
    for (const r of described) for (const c of r.configs) values.set(c.name, { value: c.value ?? null, source: c.configSource });
    const num = (key: string): number | null => {
      const v = Number(values.get(key)?.value ?? -1);
      return Number.isFinite(v) && v >= 0 ? v : null;
    };
    const segment = values.get('segment.ms');
    const policy = values.get('cleanup.policy')?.value ?? 'delete';
    return {
      partitions,
      retentionMs: num('retention.ms'),
      retentionBytes: num('retention.bytes'),
      cleanupPolicy: policy.split(',').includes('compact') ? 'compact' : 'delete',
      segmentMs: segment !== undefined && segment.source === DYNAMIC_TOPIC_CONFIG ? num('segment.ms') : null,
    };
  }
}
