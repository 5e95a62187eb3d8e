/**
 * Helpers of the serving tests: test detectors (a counter whose score says how many records its
 * series has seen, one that scores NaN, one that throws, an `onnx` factory whose load waits until
 * released), descriptors, telemetry records, model records and reading scored outputs.
 */
import type { TestContext } from 'node:test';
import { ErrorCode, SluiceError } from '../../src/errors.ts';
import { telemetryCodec, type Log, type LogRecord, type ProducerRecord, type Telemetry } from '../../src/log/index.ts';
import {
  createDescriptor,
  createRegistry,
  detectorFactories,
  ModelStore,
  type DetectorFactory,
  type DetectorModel,
  type JsonValue,
  type ModelDescriptor,
} from '../../src/model/index.ts';
import { anomalyCodec, ModelHeader, shadowKey, type ModelRecord, type ScoredRecord } from '../../src/serving/index.ts';
import { tempDir } from '../helpers.ts';
import { readTopic } from '../stream/runtime-helpers.ts';

/** Kind of the counter detector: score = min(1, (n + 1) / scale), n = records its series saw before. */
export const COUNTER_KIND = 'test-counter';
/** Kind of a detector that scores NaN. */
export const NAN_KIND = 'test-nan';
/** Kind of a detector whose score() throws. */
export const THROW_KIND = 'test-throw';
/** Kind of a counter detector that throws on an observation with x > 1000 (probes pass). */
export const FRAGILE_KIND = 'test-fragile';

interface Counter {
  n: number;
}

function counterModel(kind: string, scale: number, features: readonly string[], score: (s: Counter) => number): DetectorModel<Counter> {
  return {
    kind,
    features,
    newState: () => ({ n: 0 }),
    score(state) {
      const s = score(state);
      state.n++;
      return s;
    },
    explain: () => Object.fromEntries(features.map((f, i) => [f, features.length - i])),
    toParams: (): JsonValue => ({ scale }),
    stateToJSON: (s): JsonValue => ({ n: s.n }),
    stateFromJSON(json): Counter {
      const n = (json as { n?: unknown } | null)?.n;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new SluiceError(ErrorCode.MODEL_INVALID, `${kind} state: n must be a count`);
      return { n };
    },
  };
}

function factory(kind: string, score: (scale: number) => (s: Counter) => number): DetectorFactory {
  return {
    kind,
    description: `serving test detector ${kind}`,
    fit: (_history, options) => counterModel(kind, 1_000_000, options?.features ?? ['x'], score(1_000_000)),
    fromParams(params, features) {
      const scale = (params as { scale?: unknown } | null)?.scale;
      if (typeof scale !== 'number' || !(scale >= 1)) throw new SluiceError(ErrorCode.MODEL_INVALID, '/params/scale must be a number ≥ 1');
      return counterModel(kind, scale, features, score(scale));
    },
  };
}

/** The counter detector (see {@link COUNTER_KIND}). */
export const counterFactory = factory(COUNTER_KIND, (scale) => (s) => Math.min(1, (s.n + 1) / scale));
const nanFactory = factory(NAN_KIND, () => () => Number.NaN);
const throwFactory = factory(THROW_KIND, () => () => {
  throw new Error('this detector always fails');
});

const fragileFactory: DetectorFactory = {
  ...counterFactory,
  kind: FRAGILE_KIND,
  fromParams(params, features) {
    const inner = counterFactory.fromParams(params, features) as DetectorModel<Counter>;
    return {
      ...inner,
      kind: FRAGILE_KIND,
      score(state: Counter, obs) {
        if ((obs.values.x ?? 0) > 1000) throw new Error(`x = ${obs.values.x} is out of this model's range`);
        return inner.score(state, obs);
      },
    };
  },
};

/** An `onnx` factory whose loads wait until `release()`; `started` counts loads begun. */
export function gatedOnnxFactory(): DetectorFactory & { started: number; release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const f = {
    kind: 'onnx',
    description: 'serving test: an onnx loader that waits',
    started: 0,
    release: () => open(),
    fit: () => {
      throw new Error('not fitted');
    },
    fromParams(_params: unknown, features: readonly string[]): DetectorModel {
      f.started++;
      return gate.then(() => ({ ...counterModel(COUNTER_KIND, 1, features, () => 0.5), kind: 'onnx' })) as unknown as DetectorModel;
    },
  };
  return f;
}

/** Every real detector plus the test ones (and `extra`, replacing same-kind ones). */
export function testRegistry(extra: readonly DetectorFactory[] = []): ReadonlyMap<string, DetectorFactory> {
  const byKind = new Map<string, DetectorFactory>(detectorFactories);
  for (const f of [counterFactory, nanFactory, throwFactory, fragileFactory, ...extra]) byKind.set(f.kind, f);
  return createRegistry([...byKind.values()]);
}

/** A counter-detector descriptor (`scale` 1e6 unless given: score = (n + 1) / 1e6). */
export function counterDescriptor(name: string, version: number, options: { kind?: string; features?: readonly string[]; scale?: number } = {}): ModelDescriptor {
  return createDescriptor({
    name,
    version,
    kind: options.kind ?? COUNTER_KIND,
    params: { scale: options.scale ?? 1_000_000 },
    features: options.features ?? ['x'],
    createdAt: 1_700_000_000_000,
  });
}

/** An onnx-format descriptor (loaded by whatever `onnx` factory the registry has). */
export function onnxDescriptor(name: string, version: number): ModelDescriptor {
  return createDescriptor({ name, version, kind: 'test-onnx', bytes: new Uint8Array([1, 2, 3]), features: ['x'], createdAt: 1_700_000_000_000 });
}

/** Records the counter detector's series had seen before the one it scored (score = (n + 1) / 1e6). */
export function seen(score: number): number {
  return Math.round(score * 1_000_000) - 1;
}

/** A model store in a fresh temp directory (removed after the test), with the test registry. */
export async function tempStore(t: TestContext, registry = testRegistry()): Promise<ModelStore> {
  const dir = await tempDir('sluice-models-');
  t.after(() => dir.remove());
  return new ModelStore({ dir: dir.path, registry });
}

const encoder = new TextEncoder();

/** A models-topic record for the manager (what the control stream hands over). */
export function modelRecord(value: ModelDescriptor | string, offset: number, options: { key?: string | null; rollback?: boolean; shadow?: boolean } = {}): ModelRecord {
  const d = typeof value === 'string' ? null : value;
  const headers: Record<string, Uint8Array> = {};
  if (options.rollback === true) headers[ModelHeader.rollback] = encoder.encode('1');
  if (options.shadow === true) headers[ModelHeader.shadow] = encoder.encode('1');
  const key = options.key !== undefined ? options.key : d === null ? null : options.shadow === true ? shadowKey(d.name) : d.name;
  return { key, value: encoder.encode(d === null ? (value as string) : JSON.stringify(d)), headers, origin: { topic: 'models', partition: 0, offset } };
}

/** A telemetry record for `topic`. */
export function telemetry(topic: string, t: Telemetry, key: string | null = t.deviceId): ProducerRecord {
  return { topic, key: key === null ? null : encoder.encode(key), value: telemetryCodec.encode(t) };
}

/** Sends raw bytes to the models topic (a publisher that skipped the store, or wrote garbage). */
export async function sendModelRecord(log: Log, topic: string, record: ModelRecord): Promise<void> {
  const producer = log.producer();
  try {
    await producer.send([{ topic, key: record.key === null ? null : encoder.encode(record.key), value: record.value, headers: record.headers }]);
  } finally {
    await producer.close();
  }
}

/** Reads `count` records of a scores or anomalies topic, decoded. */
export async function readScored(log: Log, topic: string, count: number, timeoutMs = 20_000): Promise<(ScoredRecord & { readonly raw: LogRecord })[]> {
  return (await readTopic(log, topic, count, timeoutMs)).map((raw) => ({ ...anomalyCodec.decode(raw.value), raw }));
}

/** Decider options that flag every record whose score is ≥ `high` (no calibration, no warm-up). */
export const FLAG_ALL = { calibration: 'none', high: 0.000_000_1, low: 0, warmup: 0, report: 'active' } as const;

/** Decider options that pass raw scores through as likelihoods and never flag. */
export const RAW_SCORES = { calibration: 'none', high: 1, low: 1, warmup: 0 } as const;
