/**
 * The post-processor: turns one series' raw anomaly scores into calibrated likelihoods and alarm
 * decisions (what the `anomalies` topic carries).
 *
 * Calibration follows Numenta's anomaly likelihood (S. Ahmad, A. Lavin, S. Purdy, Z. Agha,
 * "Unsupervised real-time anomaly detection for streaming data", Neurocomputing 262, 2017, §4; and
 * nupic's `anomaly_likelihood.py`): the raw scores are smoothed by a short moving average (`shortWindow`);
 * the last `window` smoothed values are modelled as a Gaussian (mean and variance, floored at
 * `minMean` and `minVariance` as nupic does, so that a long flat stretch does not make the smallest
 * blip look impossible); the likelihood of the current smoothed score is 1 - P(X > it), i.e. Φ(z).
 * Each score is judged against the history before it, then added to it. With `scale: 'log'` (the
 * default) the likelihood is reported as NAB's Numenta detector does, log(tail + 1e-10) / log(1e-10),
 * which maps a tail probability of 10^-k to k/10 and so spreads the interesting range over [0, 1].
 * `calibration: 'none'` uses the raw score (clamped to [0, 1]) as the likelihood, for detectors
 * whose scores are already calibrated.
 *
 * Decisions: no decision during the first `warmup` scores (likelihood 0.5, anomaly false).
 * Hysteresis: an alarm is raised when the likelihood reaches `high` and cleared when it falls below
 * `low`; a new alarm is raised only if at least `minGapMs` of event time passed since the last one
 * raised (a raise suppressed by the gap leaves the decider clear, so a likelihood that stays high
 * raises once the gap has passed). `report: 'onset'` (default) marks only the record that raises an
 * alarm as anomalous; `'active'` marks every record while the alarm is raised.
 *
 * Bad input: a NaN or ±Infinity score, or a non-finite `ts`, is not learnt and changes no state; the
 * decision is the previous likelihood (0.5 before any) with anomaly false. Finite scores are
 * clamped to ±1e150 so that sums of squares stay finite.
 *
 * Memory: `window + shortWindow` numbers per series (8 bytes each), plus a few counters.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import { isRecord } from '../util/is-record.ts';
import { normalTail } from './postprocess-gaussian.ts';
import type { Decision, JsonValue } from './types.ts';

/** Options of {@link createDecider}; every field has a default (see {@link DECIDER_DEFAULTS}). */
export interface DeciderOptions {
  /** `likelihood` (Gaussian over recent smoothed scores) or `none` (raw score as likelihood). */
  readonly calibration?: 'likelihood' | 'none';
  /** Scale of the reported likelihood (and of `high`/`low`): `log` or `probability`. */
  readonly scale?: 'log' | 'probability';
  /** Smoothed scores kept to estimate the distribution (1..100000). */
  readonly window?: number;
  /** Length of the moving average applied to raw scores (1..window). */
  readonly shortWindow?: number;
  /** Floor on the estimated mean (nupic: 0.03). */
  readonly minMean?: number;
  /** Floor on the estimated variance (nupic: 0.0003). */
  readonly minVariance?: number;
  /** Scores seen before any decision is made (≥ 0). */
  readonly warmup?: number;
  /** Raise an alarm when the likelihood is ≥ this (0..1]. */
  readonly high?: number;
  /** Clear the alarm when the likelihood is < this (0..high). */
  readonly low?: number;
  /** Least event time between two raised alarms, ms (≥ 0). */
  readonly minGapMs?: number;
  /** `onset`: only the raising record is anomalous; `active`: every record while raised. */
  readonly report?: 'onset' | 'active';
}

/** Default decider options. */
export const DECIDER_DEFAULTS: Required<DeciderOptions> = {
  calibration: 'likelihood',
  scale: 'log',
  window: 1000,
  shortWindow: 10,
  minMean: 0.03,
  minVariance: 0.0003,
  warmup: 300,
  high: 0.5,
  low: 0.3,
  minGapMs: 0,
  report: 'onset',
};

/** A per-series decider: scores in, decisions out; serialisable. */
export interface Decider {
  /** The resolved options. */
  readonly options: Readonly<Required<DeciderOptions>>;
  /** Judges one raw score at event time `ts` (ms), then learns it. Never throws. */
  decide(score: number, ts: number): Decision;
  /** True while an alarm is raised. */
  readonly active: boolean;
  /** The decider's options and state as JSON (see {@link deciderFromJSON}). */
  toJSON(): JsonValue;
}

const MAX_WINDOW = 100_000;
const SCORE_LIMIT = 1e150;
const LOG_EPS = 1e-10;
const LOG_NORM = Math.log(LOG_EPS);

/** Validates `options`, fills in the defaults, and returns a fresh decider. INVALID_ARGUMENT naming the option. */
export function createDecider(options: DeciderOptions = {}): Decider {
  return new GaussianDecider(resolveOptions(options, ErrorCode.INVALID_ARGUMENT, 'decider options'), null);
}

/** Rebuilds a decider from {@link Decider.toJSON}; MODEL_INVALID naming the path of a bad field. */
export function deciderFromJSON(json: unknown): Decider {
  const bad = (path: string, reason: string): never => {
    throw new SluiceError(ErrorCode.MODEL_INVALID, `decider state: ${path}: ${reason}`, { details: { path } });
  };
  if (!isRecord(json)) return bad('/', 'must be an object');
  if (json.v !== 1) bad('/v', `unsupported version ${JSON.stringify(json.v)}`);
  if (!isRecord(json.options)) bad('/options', 'must be an object');
  const options = resolveOptions(json.options as DeciderOptions, ErrorCode.MODEL_INVALID, 'decider state: /options');
  const long = savedRing(json.long, '/long', options.window, bad);
  const short = savedRing(json.short, '/short', options.shortWindow, bad);
  const seen = json.seen;
  if (typeof seen !== 'number' || !Number.isSafeInteger(seen) || seen < 0) bad('/seen', 'must be a non-negative integer');
  if (typeof json.active !== 'boolean') bad('/active', 'must be a boolean');
  const lastAlarm = json.lastAlarmTs;
  if (lastAlarm !== null && !(typeof lastAlarm === 'number' && Number.isFinite(lastAlarm))) bad('/lastAlarmTs', 'must be a finite number or null');
  const lastLikelihood = json.lastLikelihood;
  if (typeof lastLikelihood !== 'number' || !(lastLikelihood >= 0 && lastLikelihood <= 1)) bad('/lastLikelihood', 'must be a number in [0, 1]');
  return new GaussianDecider(options, {
    long,
    short,
    seen: seen as number,
    active: json.active as boolean,
    lastAlarmTs: lastAlarm as number | null,
    lastLikelihood: lastLikelihood as number,
  });
}

/** Numenta's log-scale likelihood of a tail probability: log(tail + 1e-10) / log(1e-10), in [0, 1]. */
export function logLikelihood(tail: number): number {
  const v = Math.log(Math.max(0, tail) + LOG_EPS) / LOG_NORM;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

interface SavedRing {
  readonly values: number[];
  readonly sum: number;
  readonly sumSq: number;
  readonly sinceExact: number;
}

interface SavedState {
  readonly long: SavedRing;
  readonly short: SavedRing;
  readonly seen: number;
  readonly active: boolean;
  readonly lastAlarmTs: number | null;
  readonly lastLikelihood: number;
}

/** A fixed-size ring of numbers with running sum and sum of squares. */
class Ring {
  readonly values: Float64Array;
  count = 0;
  head = 0;
  sum = 0;
  sumSq = 0;
  sinceExact = 0;

  constructor(size: number) {
    this.values = new Float64Array(size);
  }

  /** Restores a ring saved by {@link toJSON} (values oldest first), running sums included, so that it continues bit for bit. */
  static restore(size: number, saved: SavedRing): Ring {
    const ring = new Ring(size);
    ring.values.set(saved.values);
    ring.count = saved.values.length;
    ring.head = ring.count % size;
    ring.sum = saved.sum;
    ring.sumSq = saved.sumSq;
    ring.sinceExact = saved.sinceExact;
    return ring;
  }

  toJSON(): SavedRing {
    return { values: this.chronological(), sum: this.sum, sumSq: this.sumSq, sinceExact: this.sinceExact };
  }

  push(x: number): void {
    const n = this.values.length;
    if (this.count === n) {
      const old = this.values[this.head]!;
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.count++;
    }
    this.values[this.head] = x;
    this.head = (this.head + 1) % n;
    this.sum += x;
    this.sumSq += x * x;
    // Recompute exactly once per `n` pushes so rounding drift cannot accumulate (amortised O(1)).
    if (++this.sinceExact >= n) this.recompute();
  }

  /** The exact sums, added oldest first (as {@link chronological} lists them), without a copy. */
  recompute(): void {
    const n = this.values.length;
    const start = this.count === n ? this.head : 0;
    let s = 0;
    let q = 0;
    for (let i = 0; i < this.count; i++) {
      const x = this.values[(start + i) % n]!;
      s += x;
      q += x * x;
    }
    this.sum = s;
    this.sumSq = q;
    this.sinceExact = 0;
  }

  chronological(): number[] {
    const n = this.values.length;
    const out: number[] = [];
    const start = this.count === n ? this.head : 0;
    for (let i = 0; i < this.count; i++) out.push(this.values[(start + i) % n]!);
    return out;
  }
}

class GaussianDecider implements Decider {
  readonly options: Readonly<Required<DeciderOptions>>;
  #long: Ring;
  #short: Ring;
  #seen = 0;
  #active = false;
  #lastAlarmTs: number | null = null;
  #lastLikelihood = 0.5;

  constructor(options: Required<DeciderOptions>, saved: SavedState | null) {
    this.options = Object.freeze({ ...options });
    this.#long = new Ring(options.window);
    this.#short = new Ring(options.shortWindow);
    if (saved !== null) {
      this.#long = Ring.restore(options.window, saved.long);
      this.#short = Ring.restore(options.shortWindow, saved.short);
      this.#seen = saved.seen;
      this.#active = saved.active;
      this.#lastAlarmTs = saved.lastAlarmTs;
      this.#lastLikelihood = saved.lastLikelihood;
    }
  }

  get active(): boolean {
    return this.#active;
  }

  decide(score: number, ts: number): Decision {
    if (typeof score !== 'number' || !Number.isFinite(score) || typeof ts !== 'number' || !Number.isFinite(ts)) {
      return { likelihood: this.#lastLikelihood, anomaly: false };
    }
    const o = this.options;
    const x = score > SCORE_LIMIT ? SCORE_LIMIT : score < -SCORE_LIMIT ? -SCORE_LIMIT : score;
    this.#short.push(x);
    const smoothed = this.#short.sum / this.#short.count;
    let likelihood: number;
    if (o.calibration === 'none') {
      likelihood = x < 0 ? 0 : x > 1 ? 1 : x;
    } else {
      likelihood = this.#calibrate(smoothed);
      this.#long.push(smoothed);
    }
    this.#seen++;
    if (this.#seen <= o.warmup) {
      this.#lastLikelihood = 0.5;
      return { likelihood: 0.5, anomaly: false };
    }
    this.#lastLikelihood = likelihood;
    let anomaly = false;
    if (this.#active) {
      if (likelihood < o.low) this.#active = false;
      else anomaly = o.report === 'active';
    }
    if (!this.#active && likelihood >= o.high && (this.#lastAlarmTs === null || ts - this.#lastAlarmTs >= o.minGapMs)) {
      this.#active = true;
      this.#lastAlarmTs = ts;
      anomaly = true;
    }
    return { likelihood, anomaly };
  }

  /** Likelihood of `smoothed` under the Gaussian of the stored smoothed scores (0.5 with < 2 of them). */
  #calibrate(smoothed: number): number {
    const o = this.options;
    const n = this.#long.count;
    if (n < 2) return 0.5;
    const rawMean = this.#long.sum / n;
    const mean = Math.max(rawMean, o.minMean);
    const variance = Math.max(this.#long.sumSq / n - rawMean * rawMean, o.minVariance);
    const tail = normalTail((smoothed - mean) / Math.sqrt(variance));
    if (o.scale === 'log') return logLikelihood(tail);
    const p = 1 - tail;
    return p < 0 ? 0 : p > 1 ? 1 : p;
  }

  toJSON(): JsonValue {
    return {
      v: 1,
      options: { ...this.options },
      long: this.#long.toJSON() as unknown as JsonValue,
      short: this.#short.toJSON() as unknown as JsonValue,
      seen: this.#seen,
      active: this.#active,
      lastAlarmTs: this.#lastAlarmTs,
      lastLikelihood: this.#lastLikelihood,
    };
  }
}

function resolveOptions(options: DeciderOptions, code: ErrorCode, where: string): Required<DeciderOptions> {
  if (!isRecord(options)) throw new SluiceError(code, `${where}: must be an object`);
  const known = new Set(Object.keys(DECIDER_DEFAULTS));
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new SluiceError(code, `${where}: unknown option '${key}'`, { details: { option: key } });
  }
  const o: Required<DeciderOptions> = { ...DECIDER_DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  const bad = (option: string, reason: string): never => {
    throw new SluiceError(code, `${where}: ${option} ${reason}, got ${JSON.stringify((o as Record<string, unknown>)[option]) ?? 'undefined'}`, {
      details: { option },
    });
  };
  const isInt = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi;
  const isNum = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
  if (o.calibration !== 'likelihood' && o.calibration !== 'none') bad('calibration', "must be 'likelihood' or 'none'");
  if (o.scale !== 'log' && o.scale !== 'probability') bad('scale', "must be 'log' or 'probability'");
  if (o.report !== 'onset' && o.report !== 'active') bad('report', "must be 'onset' or 'active'");
  if (!isInt(o.window, 1, MAX_WINDOW)) bad('window', `must be an integer in 1..${MAX_WINDOW}`);
  if (!isInt(o.shortWindow, 1, o.window)) bad('shortWindow', `must be an integer in 1..window (${o.window})`);
  if (!isNum(o.minMean, -Number.MAX_VALUE, Number.MAX_VALUE)) bad('minMean', 'must be a finite number');
  if (!isNum(o.minVariance, Number.MIN_VALUE, Number.MAX_VALUE)) bad('minVariance', 'must be a finite number > 0');
  if (!isInt(o.warmup, 0, Number.MAX_SAFE_INTEGER)) bad('warmup', 'must be a non-negative integer');
  if (!isNum(o.high, Number.MIN_VALUE, 1)) bad('high', 'must be a number in (0, 1]');
  if (!isNum(o.low, 0, o.high)) bad('low', `must be a number in [0, high] (high = ${o.high})`);
  if (!isNum(o.minGapMs, 0, Number.MAX_SAFE_INTEGER)) bad('minGapMs', 'must be a non-negative number');
  return o;
}

function savedRing(r: unknown, path: string, max: number, bad: (path: string, reason: string) => never): SavedRing {
  if (!isRecord(r)) return bad(path, 'must be an object');
  const v = r.values;
  if (!Array.isArray(v) || v.length > max) return bad(`${path}/values`, `must be an array of at most ${max} numbers`);
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) bad(`${path}/values/${i}`, 'must be a finite number');
  });
  for (const key of ['sum', 'sumSq'] as const) {
    if (typeof r[key] !== 'number' || !Number.isFinite(r[key])) bad(`${path}/${key}`, 'must be a finite number');
  }
  // The running sum of squares adds and subtracts squares, so rounding can leave it a hair below
  // zero (0.9² + 0.3² − 0.9² − 0.3² < 0): only a negative value rounding cannot explain is corrupt.
  const exact = (v as number[]).reduce((q, x) => q + x * x, 0);
  if ((r.sumSq as number) < -1e-9 * (1 + exact)) bad(`${path}/sumSq`, 'must not be negative');
  const since = r.sinceExact;
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0 || since >= max) bad(`${path}/sinceExact`, `must be an integer in 0..${max - 1}`);
  return { values: v as number[], sum: r.sum as number, sumSq: r.sumSq as number, sinceExact: since as number };
}

