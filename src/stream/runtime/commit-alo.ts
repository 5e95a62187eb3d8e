/**
 * At-least-once commits, pipelined (pipeline.ts): a batch's outputs are produced as soon as it is
 * processed and, while the log acknowledges them, the next batches are polled and processed; at
 * most `maxInFlightBatches` pushes are unacknowledged (then the loop waits: a slow sink slows the
 * source). The input offsets of the batches wait for the next commit point (every
 * `commitIntervalMs`, when idle, before a revocation, on close): there every task hands over its
 * stores' pending changelog records, which go out with that batch's outputs, carrying the offsets
 * of every batch since the previous commit point. The pipeline makes them committable only once
 * that push and every earlier one are acknowledged, so an offset is committed only after the
 * outputs and the state changes of the records before it are durable. Committable offsets are
 * committed at the next commit point, in the background: the loop goes on polling and processing
 * while the log writes the commit (one commit at a time; a commit point that finds one in flight
 * leaves its offsets to the next). When idle, the background commit first waits for everything in
 * flight; before a revocation and on close the loop waits for it and commits everything at once.
 *
 * On a log whose sends cost the same whatever their size (Log.fixedCostPerSend: the embedded
 * log), while the input is backlogged (a poll returned as many records as it may take, so more are
 * waiting), a batch's outputs are held back and produced with the next batches' — up to
 * MAX_HELD_OUTPUTS records, until a commit point, or until a poll comes back short (caught up):
 * each append costs the log about the same whatever its size (one write transaction, its index
 * rows, a wake-up of its writer thread), so a backlog is worked off in fewer, larger appends
 * (Kafka Streams' producer lingers 100 ms for the same reason). Once caught up, outputs leave
 * at the end of their batch as before: holding delays outputs at most until the batch that ends
 * the backlog, or HELD_POLL_WAIT_MS after it when the backlog ended on a full batch. Not with
 * `maxOutputDelayMs` (early sends of a batch must not overtake held outputs of the batches
 * before it).
 *
 * If a send fails, the application stops; what was committable before the failed push is
 * committed, nothing after it (re-processed on restart: duplicates, never losses). A send or
 * commit that fails in the background stops the application at the next batch. If processing
 * fails, the batches before the failed one are committed (see {@link AtLeastOnceCommitter.salvage}).
 */
import type { ProducerRecord } from '../../log/types.ts';
import type { PipelinedDelivery } from './delivery.ts';
import { OffsetMap, takeStateOutputs, type CommitContext, type Committer, type ProcessedBatch } from './committer.ts';
import { SendPipeline, type BatchInfo } from './pipeline.ts';

/**
 * Most outputs held back while the input is backlogged (see above): the log's batch size, and
 * small enough that held records rarely live through a young-generation collection (held longer,
 * they were promoted, and the GC cost more than the appends saved: measured on the window job).
 */
export const MAX_HELD_OUTPUTS = 4_096;
/**
 * While outputs are held, the longest the next poll waits for more input: a backlog that ends
 * on a full batch releases its held outputs this soon (at the empty poll's commit point).
 */
export const HELD_POLL_WAIT_MS = 5;

/** The at-least-once committer. */
export class AtLeastOnceCommitter implements Committer {
  readonly #ctx: CommitContext;
  readonly #delivery: PipelinedDelivery;
  readonly #pipeline: SendPipeline;
  /** Offsets and infos of the batches processed since the last commit point. */
  readonly #offsets = new OffsetMap();
  #batches: BatchInfo[] = [];
  #lastCommit = performance.now();
  /** The background commit in flight, if any. */
  #committing: Promise<void> | null = null;
  /** What made the last background commit fail (thrown at the next batch). */
  #failure: { readonly error: unknown } | null = null;
  /** Whether outputs may be held back while the input is backlogged. */
  readonly #mayHold: boolean;
  /** Outputs of processed batches held back, in order (see above). */
  #held: ProducerRecord[] = [];

  /** `mayHold`: the log's sends cost the same whatever their size, and outputs are not sent ahead of their batch's end (`maxOutputDelayMs`). */
  constructor(ctx: CommitContext, delivery: PipelinedDelivery, maxInFlightBatches: number, mayHold: boolean) {
    this.#ctx = ctx;
    this.#delivery = delivery;
    this.#pipeline = new SendPipeline((outputs) => delivery.send(outputs), maxInFlightBatches);
    this.#mayHold = mayHold;
  }

  get pollWaitLimitMs(): number | null {
    return this.#held.length > 0 ? HELD_POLL_WAIT_MS : null;
  }

  async add(batch: ProcessedBatch): Promise<void> {
    if (this.#failure !== null) throw this.#failure.error;
    this.#offsets.add(batch.offsets);
    if (batch.info.records > 0) this.#batches.push(batch.info);
    const idle = batch.info.records === 0;
    const due = idle || performance.now() - this.#lastCommit >= this.#ctx.commitIntervalMs;
    if (!due && this.#mayHold && batch.backlogged && this.#held.length + batch.outputs.length < MAX_HELD_OUTPUTS) {
      for (const r of batch.outputs) this.#held.push(r);
      this.#pipeline.retireSettled();
      return;
    }
    await this.#push(batch.outputs, due);
    this.#pipeline.retireSettled();
    if (due) this.#commitInBackground(idle);
  }

  /**
   * Sends outputs of the batch being processed ahead of its end (`maxOutputDelayMs`); its offsets
   * come with the batch. Resolves once the send is settled (acknowledged or failed: a failure stops
   * the application at the batch's push).
   */
  sendEarly(outputs: readonly ProducerRecord[]): Promise<void> {
    return this.#pipeline.push(outputs, [], []);
  }

  async commitAll(): Promise<void> {
    await this.#committing;
    if (this.#failure !== null) throw this.#failure.error;
    await this.#push([], true);
    await this.#pipeline.drain();
    await this.#commit();
  }

  /**
   * After an error: the batches processed before it are committed, with the stores' state (which
   * may already hold part of the failed batch: applied again on restart, at least once) — unless a
   * send failed, in which case nothing after the failed push is. Partial outputs of the failed
   * batch are dropped, except those already sent ahead of its end (`maxOutputDelayMs`).
   */
  async salvage(): Promise<void> {
    this.#ctx.collector.take();
    await this.#committing;
    await this.#push([], true).catch(() => {});
    await this.#pipeline.drain().catch(() => {});
    await this.#commit().catch(() => {});
  }

  /** Pushes `outputs`; at a commit point with the state changes and the offsets processed since the last one. */
  async #push(outputs: readonly ProducerRecord[], commitPoint: boolean): Promise<void> {
    let records = outputs;
    if (this.#held.length > 0) {
      const held = this.#held;
      for (const r of outputs) held.push(r);
      this.#held = [];
      records = held;
    }
    if (commitPoint) {
      this.#lastCommit = performance.now();
      const state = takeStateOutputs(this.#ctx);
      if (state.length > 0) records = records.length === 0 ? state : [...records, ...state];
    }
    const offsets = commitPoint ? this.#offsets.take() : [];
    if (records.length === 0 && offsets.length === 0) return;
    const batches = commitPoint ? this.#batches : [];
    if (commitPoint) this.#batches = [];
    await this.#pipeline.waitForRoom();
    this.#pipeline.push(records, offsets, batches);
  }

  /**
   * Commits what is committable, without holding up the loop; with `settle`, once every push so far
   * is acknowledged. Does nothing while a commit is in flight (its successor takes the offsets).
   */
  #commitInBackground(settle: boolean): void {
    if (this.#committing !== null) return;
    if (!settle && !this.#pipeline.hasAcknowledged) return;
    this.#committing = (async () => {
      try {
        if (settle) {
          await this.#pipeline.settled();
          this.#pipeline.retireSettled();
        }
        await this.#commit();
      } catch (error) {
        this.#failure ??= { error };
      } finally {
        this.#committing = null;
      }
    })();
  }

  /** Commits the offsets made committable (acknowledged, in order) since the last commit. */
  async #commit(): Promise<void> {
    if (!this.#pipeline.hasAcknowledged) return;
    const { offsets, batches } = this.#pipeline.take();
    const outcome = await this.#delivery.commitOffsets(offsets);
    if (outcome === 'rebalanced') this.#ctx.rebalanced();
    else this.#ctx.committed(offsets, batches);
  }
}
