/**
 * The Kafka backend of the log API, over @platformatic/kafka: `openKafkaLog` connects to a cluster
 * and hands out the admin, producers and consumers (see admin.ts, producer.ts, transaction.ts,
 * consumer.ts).
 */
import { Admin as KafkaClientAdmin } from '@platformatic/kafka';
import type { KafkaLogConfig } from '../config.ts';
import type { Consumer, ConsumerOptions, Log, Producer, ProducerOptions } from '../types.ts';
import { assertOpen } from '../validate.ts';
import { KafkaAdminApi } from './admin.ts';
import { baseOptions, TopicCache } from './client.ts';
import { KafkaConsumer } from './consumer.ts';
import { toSluiceError } from './errors.ts';
import { KafkaProducer } from './producer.ts';

/** A connection to a Kafka cluster as a {@link Log}. */
class KafkaLog implements Log {
  readonly backend = 'kafka' as const;
  readonly admin: KafkaAdminApi;
  readonly #config: KafkaLogConfig;
  readonly #client: KafkaClientAdmin;
  readonly #topics: TopicCache;
  readonly #open = new Set<{ close(): Promise<void> }>();
  #closed = false;

  constructor(config: KafkaLogConfig, client: KafkaClientAdmin) {
    this.#config = config;
    this.#client = client;
    this.#topics = new TopicCache(client);
    this.admin = new KafkaAdminApi(client, this.#topics);
  }

  producer(options: ProducerOptions = {}): Producer {
    assertOpen(this.#closed, 'log');
    const p: KafkaProducer = new KafkaProducer(this.#config, this.#client, this.#topics, options, () => this.#open.delete(p));
    this.#open.add(p);
    return p;
  }

  consumer(options: ConsumerOptions = {}): Consumer {
    assertOpen(this.#closed, 'log');
    const c: KafkaConsumer = new KafkaConsumer(this.#config, this.#client, this.#topics, options, () => this.#open.delete(c));
    this.#open.add(c);
    return c;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.admin.markClosed();
    await Promise.allSettled([...this.#open].map((c) => c.close()));
    await this.#client.close();
  }
}

/** Connects to the Kafka cluster of `config` (checks that a broker answers). */
export async function openKafkaLog(config: KafkaLogConfig): Promise<Log> {
  const client = new KafkaClientAdmin(baseOptions(config, 'admin'));
  try {
    await client.metadata({ topics: [] });
  } catch (error) {
    await client.close().catch(() => {});
    throw toSluiceError(error, `connecting to Kafka at ${config.brokers.join(',')}`, { brokers: config.brokers });
  }
  return new KafkaLog(config, client);
}
