/**
 * The unsupervised evaluation of a model on held-back recent data (docs/training.md has the method
 * and its reasons).
 *
 * Per series: the newest `holdoutFraction` of its records are held back (never fitted); a fresh
 * series state is primed with the last `primeRecords` training records (scores discarded), as a
 * serving instance that has been scoring the device would be; then the held-back records are scored
 * twice from that primed state: as they are (every alarm is a false alarm: the clean false-alarm
 * rate) and with synthetic anomalies injected (./inject.ts; event-level precision, recall and F1 of
 * ../model/eval/event-metrics.ts, an alarm detecting an anomaly when it starts inside its window).
 * Decisions are made as serving makes them: a detector whose scores are calibrated likelihoods
 * alarms at its own alarm level; the others' scores go through the post-processor's likelihood
 * calibration with its defaults (as `sluice detect`). Candidate and live model see exactly the same
 * records, priming and anomalies.
 */
import { createRng } from '../model/detectors/common/prng.ts';
import { eventMetrics, type EventSeries } from '../model/eval/event-metrics.ts';
import { createDecider, deciderFromJSON, type Decider } from '../model/postprocess.ts';
import type { DetectorFactory, DetectorModel, Observation } from '../model/types.ts';
import { injectAnomalies, robustScale, type InjectedAnomaly } from './inject.ts';
import type { EvaluationOptions, Tolerance } from './options.ts';
import type { SeriesColumns } from './sampler.ts';

/** A stretch of one series: event times and metric columns of the same length. */
export interface SeriesSlice {
  readonly ts: Float64Array;
  readonly values: Readonly<Record<string, Float64Array>>;
}

/** One series cut for fitting and evaluating. */
export interface SplitSeries {
  readonly deviceId: string;
  /** Fitted on (the older part). */
  readonly train: SeriesSlice;
  /** The tail of `train` replayed before scoring. */
  readonly prime: SeriesSlice;
  /** Held back: scored as is. */
  readonly clean: SeriesSlice;
  /** Held back with anomalies injected. */
  readonly injected: SeriesSlice;
  readonly anomalies: readonly InjectedAnomaly[];
}

/** How a model did on the held-back data. */
export interface ModelEvaluation {
  /** Event-level F1 on the injected held-back data. */
  readonly f1: number;
  readonly precision: number;
  readonly recall: number;
  /** Alarms on the clean held-back data per 1,000 records. */
  readonly falseAlarmsPer1k: number;
  /** Alarms on the clean held-back data. */
  readonly falseAlarms: number;
  /** Injected anomalies detected. */
  readonly detected: number;
  /** Anomalies injected. */
  readonly injected: number;
  /** Held-back records scored (clean). */
  readonly records: number;
}

/** The verdict on a candidate. */
export interface Verdict {
  readonly publish: boolean;
  /** Why (always set: why it is published, or why not). */
  readonly reason: string;
}

/** Splits each series and injects anomalies into its held-back part (seeded by `seed`). */
export function splitForEvaluation(series: readonly SeriesColumns[], options: EvaluationOptions, seed: number): SplitSeries[] {
  const rng = createRng(seed);
  return series.map((s) => {
    const n = s.ts.length;
    const cut = n - Math.ceil(n * options.holdoutFraction);
    const train = slice(s, 0, cut);
    const clean = slice(s, cut, n);
    const scales: Record<string, number> = {};
    for (const [name, column] of Object.entries(train.values)) scales[name] = robustScale(column);
    const { values, anomalies } = injectAnomalies(clean.values, scales, rng, {
      every: options.anomalyEvery,
      length: options.anomalyLength,
      detectionWindow: options.detectionWindow,
    });
    return {
      deviceId: s.deviceId,
      train,
      prime: slice(s, Math.max(0, cut - options.primeRecords), cut),
      clean,
      injected: { ts: clean.ts, values },
      anomalies,
    };
  });
}

/** Scores the split series with `model` (see the file comment). */
export function evaluateModel(model: DetectorModel, factory: DetectorFactory, split: readonly SplitSeries[]): ModelEvaluation {
  const events: EventSeries[] = [];
  let records = 0;
  let falseAlarms = 0;
  for (const s of split) {
    const state = model.newState();
    const decider = deciderFor(factory);
    scoreSlice(model, state, decider, s.prime);
    const savedState = model.stateToJSON(state);
    const savedDecider = decider.toJSON();
    const clean = scoreSlice(model, state, decider, s.clean);
    for (const d of clean) falseAlarms += d;
    records += clean.length;
    const injected = scoreSlice(model, model.stateFromJSON(savedState), deciderFromJSON(savedDecider), s.injected);
    events.push({ scores: injected, windows: s.anomalies.map((a) => a.window), probation: 0 });
  }
  const m = eventMetrics(events, 1);
  return {
    f1: m.f1,
    precision: m.precision,
    recall: m.recall,
    falseAlarmsPer1k: records === 0 ? 0 : (falseAlarms * 1000) / records,
    falseAlarms,
    detected: m.detectedWindows,
    injected: m.windows,
    records,
  };
}

/**
 * Publish when there is no live model, or when the candidate's F1 is at least the live model's
 * minus `tolerance.f1` (not compared when no anomaly could be injected) and its false-alarm rate at
 * most the live model's plus `tolerance.falseAlarmsPer1k` — or plus one alarm, when the held-back
 * data is so short that one alarm is more (a single alarm is never enough to reject).
 */
export function judge(candidate: ModelEvaluation, live: ModelEvaluation | null, tolerance: Tolerance): Verdict {
  if (live === null) return { publish: true, reason: 'no live model to compare with' };
  const f1Floor = live.f1 - tolerance.f1;
  if (candidate.injected > 0 && candidate.f1 < f1Floor) {
    return { publish: false, reason: `F1 ${fixed(candidate.f1)} is below the live model's ${fixed(live.f1)} − tolerance ${tolerance.f1}` };
  }
  const slack = Math.max(tolerance.falseAlarmsPer1k, candidate.records === 0 ? 0 : 1000 / candidate.records);
  if (candidate.falseAlarmsPer1k > live.falseAlarmsPer1k + slack + 1e-9) {
    return {
      publish: false,
      reason: `${fixed(candidate.falseAlarmsPer1k)} false alarms per 1,000 records is above the live model's ${fixed(live.falseAlarmsPer1k)} + ${slack === tolerance.falseAlarmsPer1k ? `tolerance ${tolerance.falseAlarmsPer1k}` : `one alarm (${fixed(slack)})`}`,
    };
  }
  const f1 = candidate.injected > 0 ? `F1 ${fixed(candidate.f1)} vs ${fixed(live.f1)}` : 'no anomaly could be injected (held-back series too short): F1 not compared';
  return { publish: true, reason: `not worse than the live model (${f1}, false alarms ${fixed(candidate.falseAlarmsPer1k)} vs ${fixed(live.falseAlarmsPer1k)} per 1,000)` };
}

/** The training records of split series as observations, series after series. */
export function trainingHistory(split: readonly SplitSeries[]): Observation[] {
  const out: Observation[] = [];
  for (const s of split) for (let i = 0; i < s.train.ts.length; i++) out.push(observation(s.train, i));
  return out;
}

/** How decisions are made for a detector (see the file comment). */
function deciderFor(factory: DetectorFactory): Decider {
  const alarm = factory.calibrated?.alarm;
  return alarm === undefined ? createDecider() : createDecider({ calibration: 'none', high: alarm, low: alarm, warmup: 0 });
}

/** Scores every record of `part` in order; returns 1 where the decision raised an alarm. */
function scoreSlice<S>(model: DetectorModel<S>, state: S, decider: Decider, part: SeriesSlice): Uint8Array {
  const out = new Uint8Array(part.ts.length);
  for (let i = 0; i < part.ts.length; i++) {
    const obs = observation(part, i);
    out[i] = decider.decide(model.score(state, obs), obs.ts).anomaly ? 1 : 0;
  }
  return out;
}

function observation(part: SeriesSlice, i: number): Observation {
  const values: Record<string, number> = {};
  for (const name in part.values) values[name] = part.values[name]![i]!;
  return { ts: part.ts[i]!, values };
}

function slice(s: SeriesSlice, from: number, to: number): SeriesSlice {
  const values: Record<string, Float64Array> = {};
  for (const [name, column] of Object.entries(s.values)) values[name] = column.subarray(from, to);
  return { ts: s.ts.subarray(from, to), values };
}

function fixed(x: number): string {
  return x.toFixed(3);
}
