/**
 * The serving scenarios that run on both backends (service-runtime.test.ts: embedded;
 * service-runtime-kafka.test.ts: the Kafka test broker): a hot swap under steady load, a restart
 * that keeps every device's learnt state, and an instance without partitions that keeps its models
 * current and scores with the newest one once it takes over.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Log, Telemetry } from '../../src/log/index.ts';
import type { ModelsReport } from '../../src/serving/index.ts';
import { createDecider, createDescriptor, robustZScore, type DeciderOptions, type ModelDescriptor, type ModelStore } from '../../src/model/index.ts';
import { ensureModelsTopic, memoryLogger, publishDescriptor, startServing, type ServingHandle, type ServingOptions } from '../../src/serving/index.ts';
import { eventually } from '../helpers.ts';
import type { StreamBackend } from '../stream/backends.ts';
import { produce } from '../stream/runtime-helpers.ts';
import { counterDescriptor, RAW_SCORES, readScored, seen, telemetry, tempStore, testRegistry } from './helpers.ts';

/** Options of {@link servingScenarios}. */
export interface ServingScenarioOptions {
  readonly skip?: string | false;
  readonly gate?: () => void;
  /** Also run the hot swap in exactly-once mode. */
  readonly exactlyOnce?: boolean;
}

/** Registers the scenarios for `backend`. */
export function servingScenarios(backend: StreamBackend, options: ServingScenarioOptions = {}): void {
  const opts = { skip: options.skip ?? false, timeout: 6 * backend.waitMs };

  async function setup(t: TestContext) {
    options.gate?.();
    const log = await backend.open(t);
    const store = await tempStore(t);
    const topics = {
      telemetry: backend.unique('telemetry'),
      models: backend.unique('models'),
      anomalies: backend.unique('anomalies'),
      dlq: backend.unique('dlq'),
      scores: backend.unique('scores'),
    };
    const base = {
      log,
      modelsDir: store.dir,
      applicationId: backend.unique('serving'),
      topics,
      registry: testRegistry(),
      logger: memoryLogger(),
      http: null,
      stream: { ...backend.fast, commitIntervalMs: 50 },
    } satisfies ServingOptions;
    const start = async (extra: Partial<ServingOptions> = {}): Promise<ServingHandle> => {
      const h = await startServing({ ...base, ...extra });
      t.after(() => h.close());
      return h;
    };
    return { log, store, topics, start };
  }

  const deliveries = options.exactlyOnce === true ? (['at-least-once', 'exactly-once'] as const) : (['at-least-once'] as const);
  for (const delivery of deliveries) {
  test(`[${backend.name}] hot swap under steady load (${delivery}): every record scored once, by exactly one version, none lost`, opts, async (t) => {
    const { log, store, topics, start } = await setup(t);
    await publish(log, store, topics.models, counterDescriptor('default', 1));
    const handle = await start({ decider: RAW_SCORES, delivery });
    const devices = Array.from({ length: 8 }, (_, i) => `dev-${i}`);
    let seq = 0;
    const sendRound = async (): Promise<void> => {
      const records = [];
      for (let k = 0; k < 25; k++, seq++) for (const d of devices) records.push(telemetry(topics.telemetry, reading(d, seq)));
      await produce(log, records);
    };
    const live = (): number => handle.models().models.find((m) => m.name === 'default')?.version ?? 0;
    // Traffic flows the whole time; each new version is published mid-stream, and more traffic follows once it serves.
    for (let round = 0; round < 4; round++) await sendRound();
    for (const version of [2, 3]) {
      await publish(log, store, topics.models, counterDescriptor('default', version));
      while (live() !== version) await sendRound();
      for (let round = 0; round < 3; round++) await sendRound();
    }
    const total = seq * devices.length;
    const out = await readScored(log, topics.scores, total, backend.waitMs);
    assert.equal(out.length, total, 'nothing more than the records sent');
    const keys = new Set(out.map((s) => `${s.deviceId}#${s.seq}`));
    assert.equal(keys.size, total, 'every record once: none lost, none twice');
    const byVersion: Record<string, number> = {};
    for (const d of devices) {
      const mine = out.filter((s) => s.deviceId === d).sort((a, b) => a.seq! - b.seq!);
      for (const [i, s] of mine.entries()) {
        assert.equal(seen(s.score), s.seq, `${d}#${s.seq}: the device's state saw every earlier record exactly once, across swaps`);
        if (i > 0) assert.ok(s.model.version >= mine[i - 1]!.model.version, `${d}: versions only move forward`);
      }
    }
    for (const s of out) byVersion[`${s.model.name}@${s.model.version}`] = (byVersion[`${s.model.name}@${s.model.version}`] ?? 0) + 1;
    assert.deepEqual(Object.keys(byVersion).sort(), ['default@1', 'default@2', 'default@3']);
    await eventually(() => assert.deepEqual(handle.metrics().scoredByVersion, byVersion), { timeoutMs: backend.waitMs, message: 'per-version counters match the outputs' });
    assert.equal(handle.metrics().swaps.default, 3);
  });
  }

  test(`[${backend.name}] an instance without partitions takes every new model (its /models is current), and scores with the newest once it takes over`, opts, async (t) => {
    const { log, store, topics, start } = await setup(t);
    await publish(log, store, topics.models, counterDescriptor('default', 1));
    const one = { partitions: 1, decider: RAW_SCORES, http: { host: '127.0.0.1', port: 0 } } as const;
    const tasks = (h: ServingHandle): number => h.metrics().stream?.tasks.length ?? 0;
    const a = await start(one);
    await eventually(() => tasks(a) === 1, { message: 'the first instance holds the one partition', timeoutMs: backend.waitMs });
    const b = await start(one);
    // B's join makes A give up its partition (eager rebalance); then exactly one of them holds it.
    await eventually(() => (a.metrics().stream?.tasksClosed ?? 0) >= 1 && tasks(a) + tasks(b) === 1, { message: 'the group settled', timeoutMs: backend.waitMs });
    const [active, idle] = tasks(a) === 1 ? [a, b] : [b, a];
    const served = async (h: ServingHandle): Promise<number | undefined> => {
      const report = (await (await fetch(`${h.http!.url}/models`)).json()) as ModelsReport;
      return report.models.find((m) => m.name === 'default')?.version;
    };
    assert.equal(await served(idle), 1);

    await publish(log, store, topics.models, counterDescriptor('default', 2));
    await eventually(async () => (await served(idle)) === 2, { message: 'the idle instance serves v2', timeoutMs: backend.waitMs });
    assert.equal(tasks(idle), 0, 'it took v2 while holding no partition');
    // The active instance takes it at its own next poll (it was seen lagging the idle one under load).
    await eventually(async () => (await served(active)) === 2, { message: 'the active instance serves v2', timeoutMs: backend.waitMs });

    await active.close();
    await eventually(() => tasks(idle) === 1, { message: 'the idle instance took the partition', timeoutMs: backend.waitMs });
    await produce(log, ['d1', 'd2', 'd3'].map((d) => telemetry(topics.telemetry, reading(d, 0))));
    const out = await readScored(log, topics.scores, 3, backend.waitMs);
    assert.deepEqual(out.map((s) => `${s.model.name}@${s.model.version}`), ['default@2', 'default@2', 'default@2'], 'no record scored by the stale v1');
    const byVersion = idle.metrics().scoredByVersion;
    assert.deepEqual([byVersion['default@1'] ?? 0, byVersion['default@2']], [0, 3]);
  });

  test(`[${backend.name}] a restarted instance continues every device's learnt state: scores equal one uninterrupted run`, opts, async (t) => {
    const { log, store, topics, start } = await setup(t);
    const history = Array.from({ length: 200 }, (_, i) => ({ ts: i, values: { x: wave(i) } }));
    const model = robustZScore.fit(history, { features: ['x'] });
    const d = createDescriptor({ name: 'default', version: 1, model, createdAt: 1 });
    await publish(log, store, topics.models, d);
    const decider: DeciderOptions = { warmup: 20, window: 50, shortWindow: 3 };
    const devices = ['a', 'b', 'c'];
    const batch = (from: number, n: number) => devices.flatMap((dev) => Array.from({ length: n }, (_, k) => telemetry(topics.telemetry, reading(dev, from + k))));

    const first = await start({ decider, stateCheckpointMs: 0 });
    await produce(log, batch(0, 60));
    await readScored(log, topics.scores, 180, backend.waitMs);
    await first.close();

    const second = await start({ decider, stateCheckpointMs: 0 });
    await produce(log, batch(60, 40));
    const out = await readScored(log, topics.scores, 300, backend.waitMs);
    assert.equal(second.metrics().carryOver.restored, 3, 'each device state was restored from the changelog');
    for (const dev of devices) {
      const state = model.newState();
      const reference = createDecider(decider);
      const mine = out.filter((s) => s.deviceId === dev).sort((a, b) => a.seq! - b.seq!);
      assert.equal(mine.length, 100);
      for (const s of mine) {
        const r = reading(dev, s.seq!);
        const score = model.score(state, { ts: r.ts, values: r.metrics });
        const decision = reference.decide(score, r.ts);
        assert.equal(s.score, score, `${dev}#${s.seq}: score as in one uninterrupted run`);
        assert.deepEqual(s.decision, decision, `${dev}#${s.seq}: decision as in one uninterrupted run`);
      }
      assert.notEqual(mine[60]!.decision.likelihood, 0.5, 'after the restart the decider is not warming up again');
    }
  });
}

const T0 = Date.now();

/** A reading of device `d` at step `i` (1 s apart from now on): x follows a wave with a device-specific offset. */
function reading(d: string, i: number): Telemetry {
  return { deviceId: d, ts: T0 + i * 1_000, seq: i, metrics: { x: wave(i) + d.charCodeAt(d.length - 1) } };
}

function wave(i: number): number {
  return Math.sin(i / 5) * 3 + ((i * 7919) % 13) / 13;
}

/** Stores `d`, then appends it to the models topic (the contract's order). */
export async function publish(log: Log, store: ModelStore, topic: string, d: ModelDescriptor, flags: { shadow?: boolean; rollback?: boolean } = {}): Promise<void> {
  const stored = await store.save(d);
  await ensureModelsTopic(log.admin, topic);
  await publishDescriptor(log, topic, stored, flags);
}
