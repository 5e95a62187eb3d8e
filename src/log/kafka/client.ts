/**
 * Connection settings shared by every client of one Kafka log, and a small cache of topic
 * partition counts (used to validate partitions and to partition keyed records).
 */
import { Admin, type BaseOptions } from '@platformatic/kafka';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { KafkaLogConfig } from '../config.ts';
import { assertTopicName } from '../validate.ts';
import { isUnknownTopic, toSluiceError } from './errors.ts';

/** Options common to every @platformatic/kafka client made from one config. */
export function baseOptions(config: KafkaLogConfig, role: string): BaseOptions {
  if (!Array.isArray(config.brokers) || config.brokers.length === 0) {
    throw new SluiceError(ErrorCode.CONFIG_INVALID, '/log/brokers must list at least one host:port');
  }
  const options: BaseOptions = {
    clientId: `${config.clientId ?? 'sluice'}-${role}`,
    bootstrapBrokers: [...config.brokers],
    timeout: config.requestTimeoutMs ?? 30_000,
    requestTimeout: config.requestTimeoutMs ?? 30_000,
    connectTimeout: 10_000,
    retries: 3,
    retryDelay: 200,
    metadataMaxAge: 5_000,
    autocreateTopics: false,
  };
  if (config.tls !== undefined && config.tls !== false) options.tls = config.tls === true ? {} : config.tls;
  if (config.sasl !== undefined) {
    options.sasl = { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password };
  }
  return options;
}

/** What the log knows about one topic. */
export interface TopicInfo {
  readonly partitions: number;
  /** Leader broker id of each partition. */
  readonly leaders: readonly number[];
  readonly id: string;
}

const TTL_MS = 2_000;

/** Caches topic metadata for a short time; `forget` after this log creates or deletes a topic. */
export class TopicCache {
  readonly #admin: Admin;
  readonly #entries = new Map<string, { info: TopicInfo; at: number }>();

  constructor(admin: Admin) {
    this.#admin = admin;
  }

  /** Metadata of `topic`; LOG_UNKNOWN_TOPIC if it does not exist. */
  async get(topic: string, fresh = false): Promise<TopicInfo> {
    assertTopicName(topic);
    const hit = this.#entries.get(topic);
    if (!fresh && hit !== undefined && Date.now() - hit.at < TTL_MS) return hit.info;
    let metadata;
    try {
      metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
    } catch (error) {
      this.#entries.delete(topic);
      if (isUnknownTopic(error)) throw unknownTopic(topic, error);
      throw toSluiceError(error, `metadata of topic '${topic}'`, { topic });
    }
    const t = metadata.topics.get(topic);
    if (t === undefined) throw unknownTopic(topic);
    const info: TopicInfo = { partitions: t.partitionsCount, leaders: t.partitions.map((p) => p.leader), id: t.id };
    this.#entries.set(topic, { info, at: Date.now() });
    return info;
  }

  /** Drops what is known about `topic`. */
  forget(topic: string): void {
    this.#entries.delete(topic);
  }
}

/** The LOG_UNKNOWN_TOPIC error for `topic`. */
export function unknownTopic(topic: string, cause?: unknown): SluiceError {
  return new SluiceError(ErrorCode.LOG_UNKNOWN_TOPIC, `unknown topic '${topic}'`, {
    details: { topic },
    ...(cause === undefined ? {} : { cause }),
  });
}
