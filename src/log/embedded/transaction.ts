/**
 * Transactions of the embedded log. Records and offsets are gathered in memory (up to the
 * producer's `maxBufferedBytes`) and written at commit by the writer thread in one SQLite
 * transaction, together with the check that this producer still owns its transactional id. So read-committed and
 * read-uncommitted consumers alike never see a record of an aborted or unfinished transaction,
 * and a fenced (zombie) producer can never commit. Each send is encoded into batch blobs right
 * away: the transaction keeps bytes, not the caller's record objects (which a long transaction
 * would otherwise keep alive into the garbage collector's old generation).
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { ProducerRecord, Transaction, TransactionOffsets } from '../types.ts';
import { assertOffset } from '../validate.ts';
import type { EmbeddedContext } from './context.ts';
import type { EmbeddedConsumer } from './consumer.ts';
import { encodeAppends, type EncodedAppend } from './append-request.ts';
import { type PreparedSend, submitAppends } from './producer.ts';

/** What a transaction needs from its producer. */
export interface TransactionSetup {
  readonly ctx: EmbeddedContext;
  readonly transactionalId: string;
  readonly epoch: number;
  readonly prepare: (records: readonly ProducerRecord[]) => PreparedSend;
  readonly maxBufferedBytes: number;
  readonly durable: boolean;
}

/** One open transaction of an embedded producer. */
export class EmbeddedTransaction implements Transaction {
  readonly #setup: TransactionSetup;
  readonly #appends: EncodedAppend[] = [];
  readonly #offsets: TransactionOffsets[] = [];
  #bytes = 0;
  #state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';

  constructor(setup: TransactionSetup) {
    this.#setup = setup;
  }

  /** True until commit or abort. */
  isOpen(): boolean {
    return this.#state === 'open';
  }

  #assertOpen(action: string): void {
    if (this.#state !== 'open') {
      throw new SluiceError(ErrorCode.LOG_TRANSACTION_STATE, `cannot ${action}: the transaction of '${this.#setup.transactionalId}' is already ${this.#state}`);
    }
  }

  send(records: readonly ProducerRecord[]): Promise<void> {
    try {
      this.#assertOpen('send');
      const prepared = this.#setup.prepare(records);
      if (this.#bytes + prepared.bytes > this.#setup.maxBufferedBytes) {
        throw new SluiceError(
          ErrorCode.LOG_TRANSACTION_STATE,
          `transaction of '${this.#setup.transactionalId}' would hold ${this.#bytes + prepared.bytes} bytes, over maxBufferedBytes ${this.#setup.maxBufferedBytes}: commit smaller transactions`,
        );
      }
      this.#bytes += prepared.bytes;
      for (const a of encodeAppends(prepared.appends)) this.#appends.push(a);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  sendOffsets(offsets: TransactionOffsets): Promise<void> {
    try {
      this.#assertOpen('sendOffsets');
      if (typeof offsets?.groupId !== 'string' || offsets.groupId.length === 0) {
        throw new SluiceError(ErrorCode.LOG_NO_GROUP, 'sendOffsets() needs a groupId');
      }
      for (const o of offsets.offsets) {
        this.#setup.ctx.topics.get(o.topic);
        assertOffset(`offset for ${o.topic}/${o.partition}`, o.offset);
      }
      this.#offsets.push(offsets);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async commit(): Promise<void> {
    this.#assertOpen('commit');
    const { ctx, durable, transactionalId, epoch } = this.#setup;
    this.#state = 'committing';
    try {
      const offsets = this.#offsets.map((o) => ({
        groupId: o.groupId,
        offsets: o.offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
        fence: (o.consumer as EmbeddedConsumer | undefined)?.fence() ?? null,
      }));
      await submitAppends(ctx, { appends: this.#appends, durable, transaction: { transactionalId, epoch, offsets } });
      this.#state = 'committed';
    } catch (error) {
      this.#state = 'aborted';
      throw error;
    }
  }

  abort(): Promise<void> {
    try {
      this.#assertOpen('abort');
      this.#state = 'aborted';
      this.#appends.length = 0;
      this.#offsets.length = 0;
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
