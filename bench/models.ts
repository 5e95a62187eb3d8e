/**
 * Detector benchmark: the cost of the anomaly detectors of src/model/detectors on one core.
 *   1. score+update throughput: records/s of `model.score(state, obs)` (reads the named metrics from
 *      the observation object, scores, updates the series' state), on the same synthetic 8-metric
 *      stream for every detector (sinusoids + noise + rare spikes, pre-generated objects), and for the
 *      baseline also on 1 metric. Measured on one series (state hot in cache) and round-robin over
 *      1,000 series (a state per series, as in serving); models fitted on 10,000 rows first; best of
 *      `--runs` timed passes after a warm-up pass.
 *   2. the Isolation Forest's fit time on 100,000 rows of 8 metrics (window features + 100 trees),
 *      median of `--runs` fits.
 *   3. per-series state memory over 10,000 series (fewer for states over 100 kB): the JSON size of stateToJSON (what a state store
 *      keeps) and the V8 heap delta (heapUsed + arrayBuffers, after GC) of holding the live states.
 * Usage: node bench/models.ts [--records N] [--runs N] [--json]   (or: npx sluice bench models)
 * With --json the last line of output is one JSON object with the figures.
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { halfSpaceTrees } from '../src/model/detectors/half-space-trees.ts';
import { isolationForest } from '../src/model/detectors/isolation-forest.ts';
import { nabDetectorFactory } from '../src/model/detectors/nab/index.ts';
import { robustZScore } from '../src/model/detectors/robust-zscore.ts';
import { createRng } from '../src/model/detectors/common/prng.ts';
import type { DetectorFactory, DetectorModel, Observation } from '../src/model/types.ts';

/** Figures of one detector. */
export interface DetectorBenchResult {
  readonly detector: string;
  readonly metrics: number;
  /** score+update records/s on one series. */
  readonly recordsPerSec: number;
  /** score+update records/s round-robin over 1,000 series. */
  readonly recordsPerSec1000Series: number;
  /** Mean JSON size of one series' state, bytes (UTF-8). */
  readonly stateJsonBytes: number;
  /** V8 heap (+ array buffers) per live series' state, bytes. */
  readonly stateHeapBytes: number;
}

/** Everything the benchmark prints with --json. */
export interface ModelsBenchResult {
  readonly node: string;
  readonly records: number;
  readonly detectors: readonly DetectorBenchResult[];
  readonly isolationForestFitMs100k: number;
}

const USAGE = 'usage: sluice bench models [--records 1000000] [--runs 3] [--json]';
const SERIES_RR = 1000;
const SERIES_MEM = 10_000;

/** Synthetic telemetry: per metric a sinusoid with its own period and level, noise, rare spikes. */
export function syntheticStream(count: number, metrics: number, seed = 7): Observation[] {
  const rng = createRng(seed);
  const names = Array.from({ length: metrics }, (_, j) => `m${j}`);
  const out: Observation[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const values: Record<string, number> = {};
    for (let j = 0; j < metrics; j++) {
      const noise = rng.next() + rng.next() + rng.next() - 1.5;
      const spike = rng.next() < 0.001 ? 8 : 0;
      values[names[j]!] = 20 * j + 5 * Math.sin((2 * Math.PI * i) / (100 + 37 * j)) + noise + spike;
    }
    out[i] = { ts: 1_700_000_000_000 + i * 1000, values };
  }
  return out;
}

function throughput(model: DetectorModel, stream: readonly Observation[], series: number, runs: number): number {
  const states = Array.from({ length: series }, () => model.newState());
  let sink = 0;
  // Warm-up pass (JIT, and fills windows).
  for (let i = 0; i < stream.length; i++) sink += model.score(states[i % series], stream[i]!);
  let best = 0;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    if (series === 1) {
      const state = states[0];
      for (let i = 0; i < stream.length; i++) sink += model.score(state, stream[i]!);
    } else {
      for (let i = 0, s = 0; i < stream.length; i++, s = s + 1 === series ? 0 : s + 1) sink += model.score(states[s], stream[i]!);
    }
    const rate = stream.length / ((performance.now() - start) / 1000);
    if (rate > best) best = rate;
  }
  if (Number.isNaN(sink)) throw new Error('a detector returned NaN');
  return best;
}

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapNow(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function memory(model: DetectorModel, stream: readonly Observation[], gc: () => void): { json: number; heap: number } {
  // Every series has seen a few hundred observations, so windows and mass profiles are populated.
  const warm = model.newState();
  for (let i = 0; i < 600; i++) model.score(warm, stream[i]!);
  const template = JSON.stringify(model.stateToJSON(warm));
  // Up to SERIES_MEM series, fewer for large states (about 256 MiB of JSON-sized state at most).
  const series = Math.max(100, Math.min(SERIES_MEM, Math.floor(2 ** 28 / Buffer.byteLength(template))));
  let jsonBytes = 0;
  const before = heapNow(gc);
  const states: unknown[] = new Array(series);
  for (let s = 0; s < series; s++) {
    const state = model.stateFromJSON(JSON.parse(template));
    model.score(state, stream[(s * 13) % stream.length]!);
    states[s] = state;
  }
  const after = heapNow(gc);
  for (let s = 0; s < series; s += 97) jsonBytes = Math.max(jsonBytes, Buffer.byteLength(JSON.stringify(model.stateToJSON(states[s]))));
  if (states.length !== series) throw new Error('unreachable');
  return { json: jsonBytes, heap: Math.round((after - before) / series) };
}

function fitTime(factory: DetectorFactory, history: readonly Observation[], runs: number): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    factory.fit(history, { seed: r + 1 });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Runs the benchmark with CLI-style arguments; prints figures (and JSON last with --json). */
export async function runModelsBench(args: readonly string[]): Promise<ModelsBenchResult> {
  const { values } = parseArgs({
    args: [...args],
    options: { records: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return { node: process.version, records: 0, detectors: [], isolationForestFitMs100k: 0 };
  }
  const records = Number(values.records);
  const runs = Number(values.runs);
  if (!Number.isInteger(records) || records < 10_000) throw new Error(`--records must be an integer ≥ 10000\n${USAGE}`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be an integer ≥ 1\n${USAGE}`);
  const json = values.json;
  const gc = gcFunction();
  const say = (line: string): void => {
    if (json) console.error(line);
    else console.log(line);
  };
  say(`node ${process.version}; ${records.toLocaleString('en')} records per pass, best of ${runs} passes; one core`);
  const stream8 = syntheticStream(records, 8);
  const stream1 = syntheticStream(records, 1);
  const cases: { factory: DetectorFactory; stream: Observation[] }[] = [
    { factory: robustZScore, stream: stream1 },
    { factory: robustZScore, stream: stream8 },
    { factory: halfSpaceTrees, stream: stream8 },
    { factory: isolationForest, stream: stream8 },
    { factory: nabDetectorFactory, stream: stream1 },
  ];
  const detectors: DetectorBenchResult[] = [];
  for (const { factory, stream } of cases) {
    const metrics = Object.keys(stream[0]!.values).length;
    const model = factory.fit(stream.slice(0, 10_000), { seed: 1 });
    const one = throughput(model, stream, 1, runs);
    const many = throughput(model, stream, SERIES_RR, runs);
    const mem = memory(model, stream, gc);
    const result: DetectorBenchResult = {
      detector: factory.kind,
      metrics,
      recordsPerSec: Math.round(one),
      recordsPerSec1000Series: Math.round(many),
      stateJsonBytes: mem.json,
      stateHeapBytes: mem.heap,
    };
    detectors.push(result);
    say(
      `${factory.kind.padEnd(17)} ${String(metrics).padStart(2)} metric(s): score+update ${Math.round(one).toLocaleString('en').padStart(11)} records/s (1 series), ` +
        `${Math.round(many).toLocaleString('en').padStart(11)} records/s (${SERIES_RR.toLocaleString('en')} series); state ${mem.json.toLocaleString('en')} B JSON, ${mem.heap.toLocaleString('en')} B heap per series`,
    );
  }
  const fitMs = fitTime(isolationForest, stream8.slice(0, 100_000), runs);
  say(`isolation-forest fit on 100,000 rows × 8 metrics (32 window features, 100 trees, ψ 256): ${fitMs.toFixed(1)} ms`);
  const result: ModelsBenchResult = { node: process.version, records, detectors, isolationForestFitMs100k: Math.round(fitMs * 10) / 10 };
  if (json) console.log(JSON.stringify(result));
  return result;
}

if (import.meta.main) {
  runModelsBench(process.argv.slice(2)).catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
