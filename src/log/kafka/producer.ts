/**
 * The Kafka producer: validates and partitions records itself (murmur2, explicit partitions),
 * bounds unacknowledged bytes, gathers concurrent sends for `lingerMs`, and hands out transactions.
 */
import { ProduceAcks, Producer as KafkaClientProducer, type Admin as KafkaAdmin, type MessageToProduce } from '@platformatic/kafka';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { KafkaLogConfig } from '../config.ts';
import { DefaultPartitioner } from '../partitioner.ts';
import type { Producer, ProducerOptions, ProducerRecord, RecordMetadata, Transaction } from '../types.ts';
import { assertOpen } from '../validate.ts';
import { PRODUCER_DEFAULTS } from '../defaults.ts';
import { ByteBudget } from './budget.ts';
import { baseOptions, type TopicCache } from './client.ts';
import { toSluiceError } from './errors.ts';
import { chunkMessages, prepareBatch, recordMetadata } from './records.ts';
import { KafkaTransaction, type TransactionHost } from './transaction.ts';

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

const ACKS = { all: ProduceAcks.ALL, leader: ProduceAcks.LEADER, none: ProduceAcks.NO_RESPONSE } as const;

/** Sends waiting for the linger timer, flushed together as one request. */
interface Pending {
  readonly messages: Message[];
  readonly settle: { resolve: (m: RecordMetadata[]) => void; reject: (e: unknown) => void; from: number; to: number }[];
}

/** Checks producer options and fills in defaults. */
function resolveOptions(options: ProducerOptions): Required<Omit<ProducerOptions, 'transactionalId'>> & { transactionalId?: string } {
  const bad = (path: string, reason: string): never => {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `producer ${path} ${reason}`, { details: { path } });
  };
  const acks = options.acks ?? PRODUCER_DEFAULTS.acks;
  if (!(acks in ACKS)) bad('acks', `must be 'all', 'leader' or 'none', got ${JSON.stringify(acks)}`);
  const idempotent = options.idempotent ?? acks === 'all';
  if (idempotent && acks !== 'all') bad('idempotent', "needs acks 'all' on Kafka");
  if (options.transactionalId !== undefined) {
    if (typeof options.transactionalId !== 'string' || options.transactionalId === '') bad('transactionalId', 'must be a non-empty string');
    if (!idempotent) bad('transactionalId', 'needs an idempotent producer');
  }
  const maxBufferedBytes = options.maxBufferedBytes ?? PRODUCER_DEFAULTS.maxBufferedBytes;
  const maxRecordBytes = options.maxRecordBytes ?? PRODUCER_DEFAULTS.maxRecordBytes;
  const lingerMs = options.lingerMs ?? PRODUCER_DEFAULTS.lingerMs;
  if (!Number.isSafeInteger(maxBufferedBytes) || maxBufferedBytes < 1) bad('maxBufferedBytes', 'must be a positive integer');
  if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1) bad('maxRecordBytes', 'must be a positive integer');
  if (!Number.isSafeInteger(lingerMs) || lingerMs < 0) bad('lingerMs', 'must be a non-negative integer');
  return {
    acks,
    idempotent,
    maxBufferedBytes,
    maxRecordBytes,
    lingerMs,
    ...(options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId }),
  };
}

/** The Kafka implementation of {@link Producer}. */
export class KafkaProducer implements Producer, TransactionHost {
  readonly client: KafkaClientProducer;
  readonly topics: TopicCache;
  readonly admin: KafkaAdmin;
  readonly options: ReturnType<typeof resolveOptions>;
  readonly budget: ByteBudget;
  readonly partitioner = new DefaultPartitioner();
  readonly #onClose: () => void;
  #closed = false;
  #fenced: SluiceError | null = null;
  #transaction: KafkaTransaction | null = null;
  #pending: Pending | null = null;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(config: KafkaLogConfig, admin: KafkaAdmin, topics: TopicCache, options: ProducerOptions, onClose: () => void) {
    this.options = resolveOptions(options);
    this.admin = admin;
    this.topics = topics;
    this.budget = new ByteBudget(this.options.maxBufferedBytes);
    this.#onClose = onClose;
    this.client = new KafkaClientProducer({
      ...baseOptions(config, 'producer'),
      idempotent: this.options.idempotent,
      // A new producer asks for a fresh id (-1/-1); the client's default (0/0) makes the broker
      // answer PRODUCER_FENCED when another producer already holds the transactionalId.
      producerId: -1n,
      producerEpoch: -1,
      acks: ACKS[this.options.acks],
      ...(this.options.transactionalId === undefined ? {} : { transactionalId: this.options.transactionalId }),
    });
  }

  /** Throws LOG_CLOSED or LOG_PRODUCER_FENCED when the producer can no longer be used. */
  assertUsable(): void {
    assertOpen(this.#closed, 'producer');
    if (this.#fenced !== null) {
      throw new SluiceError(ErrorCode.LOG_PRODUCER_FENCED, this.#fencedMessage(), {
        cause: this.#fenced,
        details: { transactionalId: this.options.transactionalId },
      });
    }
  }

  /** Converts a client error, remembering fencing (a fenced producer stays fenced). */
  failure(error: unknown, what: string): SluiceError {
    let e = toSluiceError(error, what);
    if (e.code === ErrorCode.LOG_PRODUCER_FENCED) {
      e = new SluiceError(ErrorCode.LOG_PRODUCER_FENCED, `${what}: ${this.#fencedMessage()}`, {
        cause: error,
        details: { ...e.details, transactionalId: this.options.transactionalId },
      });
      this.#fenced = e;
    }
    return e;
  }

  #fencedMessage(): string {
    return `producer with transactionalId '${this.options.transactionalId ?? ''}' was fenced by a newer producer with the same transactionalId`;
  }

  /** Called by a transaction when it ends. */
  transactionEnded(tx: KafkaTransaction): void {
    if (this.#transaction === tx) this.#transaction = null;
  }

  /** Tracks a promise so close() can wait for it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = (): void => void this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  async send(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    this.assertUsable();
    if (this.#transaction !== null) {
      throw new SluiceError(ErrorCode.LOG_TRANSACTION_STATE, 'a transaction is open on this producer: send through the transaction');
    }
    const batch = await prepareBatch(records, this.options.maxRecordBytes, this.topics, this.partitioner);
    if (batch.messages.length === 0) return [];
    await this.budget.reserve(batch.bytes);
    try {
      this.assertUsable();
      return await this.track(this.#enqueue(batch.messages));
    } finally {
      this.budget.release(batch.bytes);
    }
  }

  /** Adds messages to the lingering request (or sends at once when lingerMs is 0). */
  #enqueue(messages: Message[]): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) => {
      if (this.#pending === null) {
        const pending: Pending = { messages: [], settle: [] };
        this.#pending = pending;
        const flush = (): void => {
          if (this.#pending === pending) this.#pending = null;
          void this.#flush(pending);
        };
        if (this.options.lingerMs === 0) queueMicrotask(flush);
        else setTimeout(flush, this.options.lingerMs);
      }
      const from = this.#pending.messages.length;
      this.#pending.messages.push(...messages);
      this.#pending.settle.push({ resolve, reject, from, to: this.#pending.messages.length });
    });
  }

  async #flush(pending: Pending): Promise<void> {
    try {
      const metadata: RecordMetadata[] = [];
      for (const chunk of chunkMessages(pending.messages)) {
        const result = await this.client.send({ messages: chunk });
        metadata.push(...recordMetadata(chunk, result.offsets));
      }
      for (const s of pending.settle) s.resolve(metadata.slice(s.from, s.to));
    } catch (error) {
      const e = this.failure(error, 'sending records');
      for (const s of pending.settle) s.reject(e);
    }
  }

  async beginTransaction(): Promise<Transaction> {
    this.assertUsable();
    if (this.options.transactionalId === undefined) {
      throw new SluiceError(ErrorCode.LOG_TRANSACTION_STATE, 'beginTransaction needs a producer made with a transactionalId');
    }
    if (this.#transaction !== null) {
      throw new SluiceError(ErrorCode.LOG_TRANSACTION_STATE, 'a transaction is already open on this producer');
    }
    await Promise.allSettled(this.#inflight);
    let tx;
    try {
      tx = await this.client.beginTransaction();
    } catch (error) {
      throw this.failure(error, 'beginning a transaction');
    }
    this.#transaction = new KafkaTransaction(this, tx);
    return this.#transaction;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#inflight);
    if (this.#transaction !== null) await this.#transaction.abandon();
    try {
      await this.client.close(true);
    } finally {
      this.#onClose();
    }
  }
}
