/**
 * What `sluice start` shows of the anomalies serving writes: a reader of the anomalies topic (every
 * partition, no consumer group, from the run's start time) and the matching of each anomaly to the
 * injected one it reveals — same device, a reading the injection changed or one of the
 * {@link DETECTION_GRACE_READINGS} after it (a detector may react a little late).
 */
import { anomalyCodec, type ScoredRecord } from '../serving/index.ts';
import type { Consumer, Log } from '../log/index.ts';
import type { Injection } from './demo-injector.ts';

/** Readings after an injection's last changed one that still count as detecting it. */
export const DETECTION_GRACE_READINGS = 10;
/** Injections remembered for matching (the oldest are forgotten first). */
const MAX_TRACKED = 1_000;

/** Keeps the injections and tells which ones the anomalies revealed. */
export class InjectionTracker {
  readonly #open: { readonly injection: Injection; detected: boolean }[] = [];
  #total = 0;
  #detected = 0;

  /** Injections so far. */
  get total(): number {
    return this.#total;
  }

  /** Injections revealed by at least one anomaly. */
  get detected(): number {
    return this.#detected;
  }

  /** Notes an injection. */
  add(injection: Injection): void {
    this.#total++;
    this.#open.push({ injection, detected: false });
    if (this.#open.length > MAX_TRACKED) this.#open.shift();
  }

  /** The injection `anomaly` reveals, if any (the first revealing anomaly counts it as detected). */
  match(anomaly: ScoredRecord): Injection | null {
    if (anomaly.seq === undefined) return null;
    const seq = anomaly.seq;
    for (let i = this.#open.length - 1; i >= 0; i--) {
      const t = this.#open[i]!;
      const { deviceId, firstSeq, lastSeq } = t.injection;
      if (deviceId !== anomaly.deviceId || seq < firstSeq || seq > lastSeq + DETECTION_GRACE_READINGS) continue;
      if (!t.detected) {
        t.detected = true;
        this.#detected++;
      }
      return t.injection;
    }
    return null;
  }
}

/** Reads the anomalies topic from a point in time and hands each anomaly to a callback. */
export class AnomalyReader {
  readonly #consumer: Consumer;

  private constructor(consumer: Consumer) {
    this.#consumer = consumer;
  }

  /** Opens a reader of every partition of `topic`, from the first record with timestamp ≥ `since`. */
  static async open(log: Log, topic: string, since: number): Promise<AnomalyReader> {
    const partitions = (await log.admin.describeTopic(topic)).config.partitions;
    const consumer = log.consumer({ autoOffsetReset: 'latest' });
    try {
      const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
      await consumer.assign(tps);
      for (const tp of tps) await consumer.seek(tp, { timestamp: since });
    } catch (error) {
      await consumer.close().catch(() => undefined);
      throw error;
    }
    return new AnomalyReader(consumer);
  }

  /** Polls until `signal` aborts; undecodable records are counted through `onBad`. */
  async run(signal: AbortSignal, onAnomaly: (a: ScoredRecord) => void, onBad: (message: string) => void): Promise<void> {
    while (!signal.aborted) {
      const batch = await this.#consumer.poll({ timeoutMs: 200 });
      for (const r of batch) {
        let a: ScoredRecord;
        try {
          a = anomalyCodec.decode(r.value);
        } catch (error) {
          onBad((error as Error).message);
          continue;
        }
        onAnomaly(a);
      }
    }
  }

  /** Closes the consumer. */
  close(): Promise<void> {
    return this.#consumer.close();
  }
}
