/**
 * The at-least-once send pipeline: batch N's outputs are produced while batch N+1 is polled and
 * processed. At most `maxInFlight` batches are unacknowledged at once (further batches wait:
 * backpressure). Batches are retired strictly in order, and only a retired batch's input offsets
 * become committable, so an offset is never committed past an output that is not acknowledged:
 * when batch N's send fails, batch N+1's offsets (even if its send succeeded) are never handed out.
 * A pushed batch may carry no offsets (they come with a later one, at a commit point) and the
 * infos of several processed batches (those whose offsets it carries).
 */
import type { ProducerRecord, TopicPartitionOffset } from '../../log/types.ts';
import { OffsetMap } from './committer.ts';

/** One batch in flight. */
interface Pending {
  readonly ack: Promise<void>;
  settled: boolean;
  failed: boolean;
  error: unknown;
  readonly offsets: readonly TopicPartitionOffset[];
  readonly batches: readonly BatchInfo[];
}

/** What the runtime reports per committed batch. */
export interface BatchInfo {
  readonly records: number;
  readonly outputs: number;
  readonly started: number;
}

/** Offsets safe to commit: the latest of every partition over the retired batches, and those batches. */
export interface Acknowledged {
  readonly offsets: TopicPartitionOffset[];
  readonly batches: BatchInfo[];
}

/** Ordered, bounded queue of batches whose outputs are being acknowledged. */
export class SendPipeline {
  readonly #send: (outputs: readonly ProducerRecord[]) => Promise<unknown>;
  readonly #maxInFlight: number;
  readonly #queue: Pending[] = [];
  readonly #acked = new OffsetMap();
  #batches: BatchInfo[] = [];

  constructor(send: (outputs: readonly ProducerRecord[]) => Promise<unknown>, maxInFlight: number) {
    this.#send = send;
    this.#maxInFlight = maxInFlight;
  }

  /** Batches not yet retired. */
  get inFlight(): number {
    return this.#queue.length;
  }

  /** True when retired pushes have offsets not yet handed out by {@link take}. */
  get hasAcknowledged(): boolean {
    return this.#acked.size > 0 || this.#batches.length > 0;
  }

  /**
   * Starts producing outputs; `offsets` (and the processed `batches` they cover) become committable
   * once these outputs and every earlier push's are acknowledged. Resolves (never rejects) once
   * this push is settled; a failure is thrown where the batch is retired.
   */
  push(outputs: readonly ProducerRecord[], offsets: readonly TopicPartitionOffset[], batches: readonly BatchInfo[]): Promise<void> {
    let sent: Promise<unknown>;
    try {
      sent = outputs.length === 0 ? Promise.resolve() : this.#send(outputs);
    } catch (error) {
      sent = Promise.reject(error);
    }
    const pending: Pending = { ack: undefined as unknown as Promise<void>, settled: false, failed: false, error: undefined, offsets, batches };
    (pending as { ack: Promise<void> }).ack = sent.then(
      () => {
        pending.settled = true;
      },
      (error: unknown) => {
        pending.settled = true;
        pending.failed = true;
        pending.error = error;
      },
    );
    this.#queue.push(pending);
    return pending.ack;
  }

  /** Retires the acknowledged batches at the head without waiting; throws a failed send's error. */
  retireSettled(): void {
    while (this.#queue.length > 0 && this.#queue[0]!.settled) this.#retire();
  }

  /**
   * Waits until fewer than `maxInFlight` batches are in flight (backpressure); throws a failed send's
   * error. (Each wait retires only settled batches: a background commit may retire some meanwhile.)
   */
  async waitForRoom(): Promise<void> {
    this.retireSettled();
    while (this.#queue.length >= this.#maxInFlight) {
      await this.#queue[0]!.ack;
      this.retireSettled();
    }
  }

  /** Waits for every batch in flight, in order; throws the first failed send's error (later batches stay unretired). */
  async drain(): Promise<void> {
    while (this.#queue.length > 0) {
      await this.#queue[0]!.ack;
      this.retireSettled();
    }
  }

  /** Resolves once every batch pushed so far is settled (acknowledged or failed); retires nothing. */
  async settled(): Promise<void> {
    await this.#queue.at(-1)?.ack;
  }

  /** Hands out the committable offsets and their batches, and starts over. */
  take(): Acknowledged {
    const out = { offsets: this.#acked.take(), batches: this.#batches };
    this.#batches = [];
    return out;
  }

  #retire(): void {
    const head = this.#queue[0]!;
    if (head.failed) throw head.error;
    this.#queue.shift();
    this.#acked.add(head.offsets);
    this.#batches.push(...head.batches);
  }
}
