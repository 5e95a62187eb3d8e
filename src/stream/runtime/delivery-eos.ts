/**
 * Exactly-once delivery: a log transaction holds the outputs of one or more batches (sinks,
 * repartition topics, dead letters, changelog writes: everything the tasks handed the collector),
 * sent as each batch is processed (`send`: in the background, one after another, at most
 * {@link MAX_PENDING_SENDS} unfinished, so that the next batches are processed meanwhile), and the
 * input offsets (`tx.sendOffsets({ groupId, offsets, consumer })`), then `tx.commit()` (`commit`,
 * at the runtime's commit points, commit-eos.ts, once every send has succeeded). Read-committed consumers (the next sub-topology's tasks, downstream
 * applications) see the records exactly when their input offsets are committed, so after any
 * crash the input is re-read from the committed offsets and its effects appear once.
 *
 * Fencing of zombies (an instance that is still running but was replaced):
 * - The transactional id is `<applicationId>-<instanceId>`, one producer per instance. A restarted
 *   instance with the same `instanceId` opens a producer with the same id; the log bumps the id's
 *   epoch (embedded: the producers table; Kafka: InitProducerId), which discards the predecessor's
 *   open transaction and makes any later commit of the predecessor fail with LOG_PRODUCER_FENCED.
 *   The predecessor's application then stops with that error. Without an `instanceId` each run
 *   gets a random one and only the next rule applies (on Kafka a crashed run's open transaction is
 *   then only aborted by the broker's transaction timeout, delaying read-committed readers).
 * - Offsets go with the consumer's group generation: an instance whose partitions moved to another
 *   member (stale generation) cannot commit, so its whole transaction, outputs included, fails.
 *   That is a retriable failure: the batch is aborted and re-read (`aborted`); the next poll
 *   applies the rebalance.
 */
import { ErrorCode, isSluiceError } from '../../errors.ts';
import type { Consumer, Producer, ProducerRecord, TopicPartitionOffset, Transaction } from '../../log/types.ts';
import type { Delivery, TransactionCounts } from './delivery.ts';

/** What {@link ExactlyOnceDelivery} needs. */
export interface ExactlyOnceOptions {
  /** The consumer group (the applicationId). */
  readonly groupId: string;
  /** The group member whose generation fences the offset commits. */
  readonly consumer: Consumer;
  /** Makes the instance's transactional producer (again, after a transaction got stuck). */
  readonly producer: () => Producer;
}

/** Consecutive aborted batches after which the application stops with the last error. */
export const MAX_CONSECUTIVE_ABORTS = 10;

/** Sends of the open transaction that may be unfinished while the loop goes on (then it waits). */
export const MAX_PENDING_SENDS = 4;

/**
 * The sends of one transaction, made one after another in the background; at most `maxPending`
 * unfinished (then `add` waits for the oldest). The first failure is kept: later sends are
 * skipped, and `add` and `settle` throw it.
 */
class SendChain {
  readonly #maxPending: number;
  readonly #pending: Promise<void>[] = [];
  #tail: Promise<void> = Promise.resolve();
  #failure: { readonly error: unknown } | null = null;

  constructor(maxPending: number) {
    this.#maxPending = maxPending;
  }

  /** Queues `send` after the sends before it; waits while too many are unfinished. */
  async add(send: () => Promise<void>): Promise<void> {
    this.#throwFailure();
    const done = this.#tail.then(async () => {
      try {
        if (this.#failure === null) await send();
      } catch (error) {
        this.#failure ??= { error };
      }
    });
    this.#tail = done;
    this.#pending.push(done);
    while (this.#pending.length > this.#maxPending) await this.#pending.shift();
    this.#throwFailure();
  }

  /** Waits for every send; throws the first failure. */
  async settle(): Promise<void> {
    await this.#tail;
    this.#pending.length = 0;
    this.#throwFailure();
  }

  #throwFailure(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }
}

/** True for failures after which a batch can be re-processed (rebalance, timeout). */
function retriable(error: unknown): boolean {
  if (!isSluiceError(error)) return false;
  if (error.code === ErrorCode.LOG_PRODUCER_FENCED) return false;
  return error.retriable || (error.code === ErrorCode.LOG_TRANSACTION_STATE && isSluiceError(error.cause) && error.cause.retriable);
}

/** Transactions, one at a time, on one transactional producer. */
export class ExactlyOnceDelivery implements Delivery {
  readonly #options: ExactlyOnceOptions;
  #producer: Producer;
  /** The open transaction (begun by the first send or commit after the last commit or abort) and its sends. */
  #tx: Transaction | null = null;
  #sends = new SendChain(MAX_PENDING_SENDS);
  #committed = 0;
  #aborted = 0;
  #consecutiveAborts = 0;

  constructor(options: ExactlyOnceOptions) {
    this.#options = options;
    this.#producer = options.producer();
  }

  /** True while a transaction is open. */
  get inTransaction(): boolean {
    return this.#tx !== null;
  }

  /**
   * Adds outputs to the open transaction (beginning one if needed). On a retriable failure the
   * transaction is aborted and `aborted` returned (the caller rewinds and rebuilds); on any other
   * failure it is aborted and the error thrown.
   */
  async send(outputs: readonly ProducerRecord[]): Promise<'sent' | 'aborted'> {
    try {
      const tx = (this.#tx ??= await this.#producer.beginTransaction());
      await this.#sends.add(() => tx.send(outputs));
      return 'sent';
    } catch (error) {
      return this.#failed(error);
    }
  }

  /**
   * Adds the input offsets to the open transaction (beginning one if needed: offsets alone) and
   * commits it; failures as for {@link send}. Nothing open and no offsets: nothing to do.
   */
  async commit(offsets: readonly TopicPartitionOffset[]): Promise<'committed' | 'aborted'> {
    if (this.#tx === null && offsets.length === 0) return 'committed';
    try {
      this.#tx ??= await this.#producer.beginTransaction();
      await this.#sends.settle();
      if (offsets.length > 0) await this.#tx.sendOffsets({ groupId: this.#options.groupId, offsets, consumer: this.#options.consumer });
      await this.#tx.commit();
    } catch (error) {
      return this.#failed(error);
    }
    this.#tx = null;
    this.#committed++;
    this.#consecutiveAborts = 0;
    return 'committed';
  }

  /** Aborts the open transaction, if any (after an error elsewhere), best effort. */
  async abandon(): Promise<void> {
    const tx = this.#tx;
    this.#tx = null;
    await this.#sends.settle().catch(() => {});
    this.#sends = new SendChain(MAX_PENDING_SENDS);
    if (tx !== null) await this.#abort(tx, null).catch(() => {});
  }

  /** Aborts the transaction a call failed in; returns `aborted` for a retriable failure, throws otherwise. */
  async #failed(error: unknown): Promise<'aborted'> {
    const tx = this.#tx;
    this.#tx = null;
    this.#aborted++;
    await this.#sends.settle().catch(() => {});
    this.#sends = new SendChain(MAX_PENDING_SENDS);
    if (tx !== null) await this.#abort(tx, error);
    if (!retriable(error) || ++this.#consecutiveAborts >= MAX_CONSECUTIVE_ABORTS) throw error;
    return 'aborted';
  }

  /**
   * Aborts `tx` (a failed commit may already have ended it). If the abort itself fails the
   * producer's transaction state is unknown: a fresh producer with the same transactional id
   * resolves it (bumping the epoch ends the old transaction) — unless this one was fenced.
   */
  async #abort(tx: Transaction, cause: unknown): Promise<void> {
    try {
      await tx.abort();
      return;
    } catch (error) {
      if (isSluiceError(error, ErrorCode.LOG_TRANSACTION_STATE) && /already aborted|is aborted/.test(error.message)) return;
      if (isSluiceError(cause, ErrorCode.LOG_PRODUCER_FENCED) || isSluiceError(error, ErrorCode.LOG_PRODUCER_FENCED)) return;
    }
    const old = this.#producer;
    this.#producer = this.#options.producer();
    await old.close().catch(() => {});
  }

  transactions(): TransactionCounts {
    return { committed: this.#committed, aborted: this.#aborted };
  }

  close(): Promise<void> {
    return this.#producer.close();
  }
}
