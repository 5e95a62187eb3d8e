/**
 * The embedded producer. A send is validated whole and split by partition on the caller's thread,
 * encoded into batch blobs, and handed to the writer thread, which appends it in one SQLite
 * transaction: all-or-nothing and, with `acks: 'all'`, fsynced before the send resolves.
 *
 * Batching and back-pressure: sends in flight together are committed together by the writer
 * thread (one fsync), so `lingerMs` is accepted but not needed. At most `maxBufferedBytes` of
 * unacknowledged sends are in flight; further sends wait, in order, until earlier ones are
 * acknowledged, so the buffer pushes back instead of growing. Idempotence comes with the design: an
 * append is never retried behind the caller's back, so no record can be written twice.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import { PRODUCER_DEFAULTS } from '../defaults.ts';
import { DefaultPartitioner } from '../partitioner.ts';
import type { Producer, ProducerOptions, ProducerRecord, RecordMetadata, Transaction } from '../types.ts';
import { assertOpen, assertProducerRecord, definedOnly } from '../validate.ts';
import type { EmbeddedContext } from './context.ts';
import { withWriteTransaction } from './database.ts';
import { type AppendRequest, encodeAppends, type EncodedAppend, type PartitionAppend } from './append-request.ts';
import { EmbeddedTransaction } from './transaction.ts';
import type { TopicRow } from './topics.ts';

/** Records of one send, resolved to partitions, with where each input record goes. */
export interface PreparedSend {
  readonly appends: PartitionAppend[];
  /** For input record i: the index of its append… */
  readonly appendOf: Int32Array;
  /** …and its position within that append. */
  readonly positionOf: Int32Array;
  readonly bytes: number;
}

/**
 * Validates every record, then groups them by topic partition (keeping references to the caller's
 * records: no per-record allocation). Throws before anything is written.
 */
export function prepareSend(ctx: EmbeddedContext, partitioner: DefaultPartitioner, records: readonly ProducerRecord[], maxRecordBytes: number): PreparedSend {
  if (!Array.isArray(records)) {
    throw new SluiceError(ErrorCode.LOG_INVALID_RECORD, 'send() takes an array of records');
  }
  const now = ctx.clock();
  // Per topic, the append index of each partition (-1: none yet); avoids a string key per record.
  const byTopic = new Map<string, { topic: TopicRow; index: Int32Array }>();
  const appends: Array<{ topic: TopicRow; partition: number; records: ProducerRecord[]; defaultTimestamp: number }> = [];
  const appendOf = new Int32Array(records.length);
  const positionOf = new Int32Array(records.length);
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    bytes += assertProducerRecord(r, i, maxRecordBytes);
    let entry = byTopic.get(r.topic);
    if (entry === undefined) {
      const topic = ctx.topics.get(r.topic);
      entry = { topic, index: new Int32Array(topic.config.partitions).fill(-1) };
      byTopic.set(r.topic, entry);
    }
    const partition = partitioner.choose(r, entry.topic.config.partitions);
    let a = entry.index[partition]!;
    if (a < 0) {
      a = appends.length;
      entry.index[partition] = a;
      appends.push({ topic: entry.topic, partition, records: [], defaultTimestamp: now });
    }
    const target = appends[a]!.records;
    appendOf[i] = a;
    positionOf[i] = target.length;
    target.push(r);
  }
  return { appends, appendOf, positionOf, bytes };
}

/**
 * Where each record of a send landed, given each append's topic and partition (`appends`, in the
 * prepared send's order), the prepared send's placement of the records, and each append's base
 * offset.
 */
export function metadataOf(
  appends: readonly { readonly topic: string; readonly partition: number }[],
  placement: Pick<PreparedSend, 'appendOf' | 'positionOf'>,
  bases: readonly number[],
): RecordMetadata[] {
  const { appendOf, positionOf } = placement;
  const out: RecordMetadata[] = new Array(appendOf.length);
  for (let i = 0; i < appendOf.length; i++) {
    const a = appendOf[i]!;
    const append = appends[a]!;
    out[i] = { topic: append.topic, partition: append.partition, offset: bases[a]! + positionOf[i]! };
  }
  return out;
}

/**
 * Hands encoded appends to the writer thread; wakes this process's waiting consumers on success,
 * and forgets a topic that turns out to be deleted (another process may have deleted it).
 */
export async function submitAppends(ctx: EmbeddedContext, request: Omit<AppendRequest, 'id'>): Promise<number[]> {
  try {
    const bases = await ctx.writer.submit(request);
    ctx.appended.notify();
    return bases;
  } catch (error) {
    if (error instanceof SluiceError && error.code === ErrorCode.LOG_UNKNOWN_TOPIC) ctx.topics.forget(error.details['topic'] as string);
    throw error;
  }
}

/** A producer on the embedded log. */
export class EmbeddedProducer implements Producer {
  readonly #ctx: EmbeddedContext;
  readonly #options: Required<Omit<ProducerOptions, 'transactionalId'>> & { transactionalId: string | undefined };
  readonly #partitioner = new DefaultPartitioner();
  readonly #onClose: () => void;
  /** Bytes of sends handed to the writer thread and not yet acknowledged. */
  #bufferedBytes = 0;
  /** Sends waiting for buffer space, first come first served. */
  readonly #waiting: Array<{ bytes: number; go: () => void }> = [];
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;
  #epoch = 0;
  #transaction: EmbeddedTransaction | null = null;

  constructor(ctx: EmbeddedContext, options: ProducerOptions, onClose: () => void) {
    this.#ctx = ctx;
    this.#options = { ...PRODUCER_DEFAULTS, ...definedOnly(options), transactionalId: options.transactionalId };
    this.#onClose = onClose;
    assertPositiveInteger('maxBufferedBytes', this.#options.maxBufferedBytes);
    assertPositiveInteger('maxRecordBytes', this.#options.maxRecordBytes);
    if (!(this.#options.lingerMs >= 0)) throw invalidOption('lingerMs', 'must be ≥ 0', this.#options.lingerMs);
    if (!['all', 'leader', 'none'].includes(this.#options.acks)) throw invalidOption('acks', "must be 'all', 'leader' or 'none'", this.#options.acks);
    if (options.transactionalId !== undefined) this.#epoch = this.#claimTransactionalId(options.transactionalId);
  }

  /** Bumps the epoch of the transactional id: any older producer with it is fenced from now on. */
  #claimTransactionalId(id: string): number {
    if (typeof id !== 'string' || id.length === 0) throw invalidOption('transactionalId', 'must be a non-empty string', id);
    const db = this.#ctx.db;
    return withWriteTransaction(db, () => {
      db.prepare('INSERT INTO producers (transactional_id, epoch) VALUES (?, 1) ON CONFLICT (transactional_id) DO UPDATE SET epoch = epoch + 1').run(id);
      return (db.prepare('SELECT epoch FROM producers WHERE transactional_id = ?').get(id) as { epoch: number }).epoch;
    });
  }

  send(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    try {
      assertOpen(this.#closed, 'producer');
      if (this.#transaction?.isOpen() === true) {
        throw new SluiceError(
          ErrorCode.LOG_TRANSACTION_STATE,
          `producer '${this.#options.transactionalId}' has an open transaction: send through the transaction, or commit or abort it first`,
        );
      }
      const prepared = prepareSend(this.#ctx, this.#partitioner, records, this.#options.maxRecordBytes);
      if (prepared.appends.length === 0) return Promise.resolve([]);
      // Encoded here, so the caller's record objects are not held while the send waits: held
      // (an async function keeps its parameters), they outlived a young-generation collection or
      // two under load and were copied and promoted for nothing.
      const { appendOf, positionOf, bytes } = prepared;
      const sent = this.#send(encodeAppends(prepared.appends), { appendOf, positionOf, bytes });
      this.#inFlight.add(sent);
      void sent.then(
        () => this.#inFlight.delete(sent),
        () => this.#inFlight.delete(sent),
      );
      return sent;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Waits for buffer space, hands the encoded appends to the writer, and tells where each record landed. */
  async #send(appends: EncodedAppend[], placement: Pick<PreparedSend, 'appendOf' | 'positionOf' | 'bytes'>): Promise<RecordMetadata[]> {
    const { bytes } = placement;
    if (!this.#tryReserve(bytes)) await new Promise<void>((go) => this.#waiting.push({ bytes, go }));
    try {
      const bases = await submitAppends(this.#ctx, { appends, durable: this.#options.acks === 'all', transaction: null });
      return metadataOf(appends, placement, bases);
    } finally {
      this.#release(bytes);
    }
  }

  /**
   * Takes buffer space for a send if there is room and nobody is waiting (order is kept). A send
   * larger than the whole buffer goes alone.
   */
  #tryReserve(bytes: number): boolean {
    if (this.#waiting.length > 0) return false;
    if (this.#bufferedBytes > 0 && this.#bufferedBytes + bytes > this.#options.maxBufferedBytes) return false;
    this.#bufferedBytes += bytes;
    return true;
  }

  #release(bytes: number): void {
    this.#bufferedBytes -= bytes;
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!;
      if (this.#bufferedBytes > 0 && this.#bufferedBytes + next.bytes > this.#options.maxBufferedBytes) break;
      this.#waiting.shift();
      this.#bufferedBytes += next.bytes;
      next.go();
    }
  }

  beginTransaction(): Promise<Transaction> {
    try {
      assertOpen(this.#closed, 'producer');
      const id = this.#options.transactionalId;
      if (id === undefined) {
        throw new SluiceError(ErrorCode.LOG_TRANSACTION_STATE, 'beginTransaction() needs a producer created with a transactionalId');
      }
      if (this.#transaction !== null && this.#transaction.isOpen()) {
        throw new SluiceError(ErrorCode.LOG_TRANSACTION_STATE, `producer '${id}' already has an open transaction: commit or abort it first`);
      }
      this.#transaction = new EmbeddedTransaction({
        ctx: this.#ctx,
        transactionalId: id,
        epoch: this.#epoch,
        prepare: (records) => prepareSend(this.#ctx, this.#partitioner, records, this.#options.maxRecordBytes),
        maxBufferedBytes: this.#options.maxBufferedBytes,
        durable: this.#options.acks === 'all',
      });
      return Promise.resolve(this.#transaction);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    this.#onClose();
  }
}

function invalidOption(name: string, reason: string, value: unknown): SluiceError {
  return new SluiceError(ErrorCode.INVALID_ARGUMENT, `producer option ${name} ${reason}, got ${String(value)}`, { details: { path: name } });
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw invalidOption(name, 'must be a positive integer', value);
}
