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
 * If a send fails, the application stops; what was committable before the failed push is
 * committed, nothing after it (re-processed on restart: duplicates, never losses). A send or
 * commit that fails in the background stops the application at the next batch. If processing
 * fails, the batches before the failed one are committed (see {@link AtLeastOnceCommitter.salvage}).
 */
import type { ProducerRecord } from '../../log/types.ts';
import type { PipelinedDelivery } from './delivery.ts';
import { OffsetMap, takeStateOutputs, type CommitContext, type Committer, type ProcessedBatch } from './committer.ts';
import { SendPipeline, type BatchInfo } from './pipeline.ts';

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

  constructor(ctx: CommitContext, delivery: PipelinedDelivery, maxInFlightBatches: number) {
    this.#ctx = ctx;
    this.#delivery = delivery;
    this.#pipeline = new SendPipeline((outputs) => delivery.send(outputs), maxInFlightBatches);
  }

  async add(batch: ProcessedBatch): Promise<void> {
    if (this.#failure !== null) throw this.#failure.error;
    this.#offsets.add(batch.offsets);
    if (batch.info.records > 0) this.#batches.push(batch.info);
    const idle = batch.info.records === 0;
    const due = idle || performance.now() - this.#lastCommit >= this.#ctx.commitIntervalMs;
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
