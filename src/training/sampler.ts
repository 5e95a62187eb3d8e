/**
 * Bounded memory for the history a training run reads: per series (one device), the most recent
 * records, in the order they were read (offset order, which is the order serving scores them).
 *
 * Sampling: most-recent, not reservoir. Detectors learn from contiguous series (rolling windows,
 * online state), and the evaluation holds back the newest part of each series, so a gap-free tail
 * of each series is what a fit needs; a reservoir would spread the sample over the range and break
 * both. The bounds:
 * - `maxRecordsPerSeries`: a series keeps its newest N records (a ring; older ones are dropped);
 * - `maxRecords`: all series together keep at most N records. When a new series pushes the total
 *   over, the per-series cap drops to ⌊maxRecords / series⌋ and every series is trimmed to its newest
 *   records: devices are sampled fairly, and the cap only ever goes down during a run;
 * - `maxSeries`: records of further devices are skipped (and counted), so the map of series is
 *   bounded too.
 * Storage is columnar: per series a Float64Array of event times and one per metric (missing
 * values are NaN), grown by doubling up to the cap, so a record costs 8·(1 + metrics) bytes.
 */
import type { Telemetry } from '../log/index.ts';

/** Bounds of a {@link SeriesSampler}. */
export interface SamplingLimits {
  readonly maxRecords: number;
  readonly maxRecordsPerSeries: number;
  readonly maxSeries: number;
}

/** One device's sampled history, in read order: event times and one column per metric. */
export interface SeriesColumns {
  readonly deviceId: string;
  /** The device's class tag (its latest value), or null when it has none. */
  readonly className: string | null;
  readonly ts: Float64Array;
  /** Metric name → values (NaN where a record lacks the metric). */
  readonly values: Readonly<Record<string, Float64Array>>;
}

const INITIAL_CAPACITY = 64;

/** A ring of the newest records of one series (see the file comment). */
class SeriesBuffer {
  readonly deviceId: string;
  className: string | null = null;
  #cap: number;
  #start = 0;
  #length = 0;
  #ts: Float64Array;
  readonly #columns = new Map<string, Float64Array>();

  constructor(deviceId: string, cap: number) {
    this.deviceId = deviceId;
    this.#cap = cap;
    this.#ts = new Float64Array(Math.min(cap, INITIAL_CAPACITY));
  }

  get length(): number {
    return this.#length;
  }

  /** Appends a record; returns 1 when the series grew, 0 when its oldest record made room. */
  push(ts: number, metrics: Readonly<Record<string, number>>): 0 | 1 {
    let grew: 0 | 1 = 1;
    if (this.#length === this.#ts.length) {
      if (this.#length < this.#cap) this.#resize(Math.min(this.#cap, this.#length * 2));
      else {
        this.#start = (this.#start + 1) % this.#ts.length;
        this.#length--;
        grew = 0;
      }
    }
    const size = this.#ts.length;
    const at = (this.#start + this.#length) % size;
    this.#ts[at] = ts;
    for (const column of this.#columns.values()) column[at] = Number.NaN;
    for (const name in metrics) {
      let column = this.#columns.get(name);
      if (column === undefined) {
        column = new Float64Array(size).fill(Number.NaN);
        this.#columns.set(name, column);
      }
      column[at] = metrics[name]!;
    }
    this.#length++;
    return grew;
  }

  /** Keeps only the newest `cap` records from now on; returns how many records were dropped. */
  trim(cap: number): number {
    this.#cap = cap;
    if (this.#ts.length <= cap) return 0;
    const drop = Math.max(0, this.#length - cap);
    this.#start = (this.#start + drop) % this.#ts.length;
    this.#length -= drop;
    this.#resize(cap);
    return drop;
  }

  /** The records in read order, as fresh arrays. */
  columns(): SeriesColumns {
    const values: Record<string, Float64Array> = {};
    for (const [name, column] of this.#columns) values[name] = this.#ordered(column);
    return { deviceId: this.deviceId, className: this.className, ts: this.#ordered(this.#ts), values };
  }

  #ordered(ring: Float64Array): Float64Array {
    const out = new Float64Array(this.#length);
    const head = Math.min(this.#length, ring.length - this.#start);
    out.set(ring.subarray(this.#start, this.#start + head));
    if (head < this.#length) out.set(ring.subarray(0, this.#length - head), head);
    return out;
  }

  #resize(size: number): void {
    this.#ts = this.#copy(this.#ts, size, 0);
    for (const [name, column] of this.#columns) this.#columns.set(name, this.#copy(column, size, Number.NaN));
    this.#start = 0;
  }

  #copy(ring: Float64Array, size: number, fill: number): Float64Array {
    const out = new Float64Array(size).fill(fill);
    out.set(this.#ordered(ring));
    return out;
  }
}

/** What a sampler kept and dropped. */
export interface SamplingStats {
  /** Records held now. */
  readonly kept: number;
  /** Records dropped to stay within the caps (older records of sampled series). */
  readonly dropped: number;
  /** Records skipped because their device came after `maxSeries` devices. */
  readonly skippedOverSeriesLimit: number;
  /** Devices seen beyond `maxSeries`. */
  readonly seriesOverLimit: number;
  /** The per-series cap in force at the end (≤ maxRecordsPerSeries). */
  readonly capPerSeries: number;
}

/** The bounded per-device history of a run (see the file comment). */
export class SeriesSampler {
  readonly #limits: SamplingLimits;
  readonly #series = new Map<string, SeriesBuffer>();
  readonly #overLimit = new Set<string>();
  #cap: number;
  #total = 0;
  #dropped = 0;
  #skipped = 0;

  constructor(limits: SamplingLimits) {
    this.#limits = limits;
    this.#cap = limits.maxRecordsPerSeries;
  }

  /** Adds one telemetry record (its device's class from the tag `classTag`). */
  add(record: Telemetry, classTag: string): void {
    let series = this.#series.get(record.deviceId);
    if (series === undefined) {
      if (this.#series.size >= this.#limits.maxSeries) {
        this.#skipped++;
        if (this.#overLimit.size < this.#limits.maxSeries) this.#overLimit.add(record.deviceId);
        return;
      }
      series = new SeriesBuffer(record.deviceId, this.#cap);
      this.#series.set(record.deviceId, series);
    }
    const className = record.tags?.[classTag];
    if (className !== undefined) series.className = className;
    if (series.push(record.ts, record.metrics) === 0) this.#dropped++;
    else if (++this.#total > this.#limits.maxRecords) this.#shrink();
  }

  /** How many records are held. */
  get size(): number {
    return this.#total;
  }

  /** Every series' records, in the order their devices were first seen. */
  series(): SeriesColumns[] {
    return [...this.#series.values()].map((s) => s.columns());
  }

  /** Counts of what was kept and dropped. */
  stats(): SamplingStats {
    return {
      kept: this.#total,
      dropped: this.#dropped,
      skippedOverSeriesLimit: this.#skipped,
      seriesOverLimit: this.#overLimit.size,
      capPerSeries: this.#cap,
    };
  }

  #shrink(): void {
    this.#cap = Math.max(1, Math.floor(this.#limits.maxRecords / this.#series.size));
    for (const s of this.#series.values()) {
      const dropped = s.trim(this.#cap);
      this.#total -= dropped;
      this.#dropped += dropped;
    }
  }
}
