/**
 * The state-store runtime scenarios (changelogs, restore on restart and on rebalance, stream–table
 * joins, global tables), parameterised by backend: state-runtime.test.ts runs them on the embedded
 * log, state-runtime-kafka.test.ts on the Kafka test broker.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import type { LogRecord } from '../../src/log/types.ts';
import { run, topology, type Topology } from '../../src/stream/index.ts';
import { bytes, eventually, expectCode, text } from '../helpers.ts';
import type { StreamBackend } from './backends.ts';
import { createTopics, produce, readTopic } from './runtime-helpers.ts';

const key = stringCodec;
const num = jsonCodec<number>();
const codecs = { key, value: num } as const;
const KEYS = Array.from({ length: 10 }, (_, i) => `dev-${i}`);

function counting(input: string, output: string): Topology {
  const b = topology();
  b.stream(input, codecs).groupByKey().count({ name: 'counts' }).toStream().to(output, codecs);
  return b.build();
}

/** Per key, the counts emitted in order. */
export function countsByKey(records: readonly LogRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const k = text(r.key!);
    out.set(k, [...(out.get(k) ?? []), Number(text(r.value))]);
  }
  return out;
}

/** Options of {@link stateScenarios}. */
export interface StateScenarioOptions {
  /** Skip every scenario with this reason (no broker), or false. */
  readonly skip?: string | false;
  /** Runs first in each test; throws to fail it (a missing broker under CI). */
  readonly gate?: () => void;
}

/** Registers the state scenarios for `backend`. */
export function stateScenarios(backend: StreamBackend, options: StateScenarioOptions = {}): void {
  const { waitMs, fast } = backend;
  const opts = { skip: options.skip ?? false, timeout: 6 * waitMs };
  const begin = async (t: TestContext) => {
    options.gate?.();
    const log = await backend.open(t);
    const input = backend.unique('in');
    const output = backend.unique('out');
    await createTopics(log, { [input]: 4, [output]: 4 });
    const once = () => KEYS.map((k) => ({ topic: input, key: bytes(k), value: bytes('1') }));
    return { log, input, output, once };
  };

  test(`[${backend.name}] counts continue after the application stops and a new one starts (restore from the changelog)`, opts, async (t) => {
    const { log, input, output, once } = await begin(t);
    const topo = counting(input, output);
    const applicationId = backend.unique('counter');
    const runOptions = { log, applicationId, ...fast } as const;
    const first = await run(topo, runOptions);
    t.after(() => first.close());
    await produce(log, [...once(), ...once(), ...once()]);
    await readTopic(log, output, 30, waitMs);
    const entries = () => first.metrics().tasks.reduce((n, m) => n + (m.stateEntries.counts ?? 0), 0);
    await eventually(() => entries() === 10, { message: 'state size metric counts 10 keys', timeoutMs: waitMs });
    await first.close();

    const { config } = await log.admin.describeTopic(`${applicationId}-counts-changelog`);
    assert.equal(config.cleanupPolicy, 'compact');
    assert.equal(config.partitions, 4);

    const second = await run(topo, runOptions);
    t.after(() => second.close());
    await produce(log, once());
    const out = await readTopic(log, output, 40, waitMs);
    for (const k of KEYS) assert.deepEqual(countsByKey(out).get(k), [1, 2, 3, 4], `counts of ${k}`);
    await second.close();
  });

  test(`[${backend.name}] with two instances, tasks that move carry their counts`, opts, async (t) => {
    const { log, input, output, once } = await begin(t);
    const topo = counting(input, output);
    const runOptions = { log, applicationId: backend.unique('counter2'), ...fast } as const;
    const a = await run(topo, runOptions);
    t.after(() => a.close());
    await eventually(() => a.taskIds().length === 4, { message: 'A owns all tasks', timeoutMs: waitMs });
    await produce(log, [...once(), ...once()]);
    await readTopic(log, output, 20, waitMs);

    const b = await run(topo, runOptions);
    t.after(() => b.close());
    await eventually(() => a.taskIds().length === 2 && b.taskIds().length === 2, { message: 'tasks split 2/2', timeoutMs: waitMs });
    await produce(log, once());
    await readTopic(log, output, 30, waitMs);
    assert.ok(b.metrics().tasks.some((m) => (m.stateEntries.counts ?? 0) > 0), 'B restored state for its tasks');

    await b.close();
    await eventually(() => a.taskIds().length === 4, { message: 'tasks move back to A', timeoutMs: waitMs });
    await produce(log, once());
    const out = await readTopic(log, output, 40, waitMs);
    for (const k of KEYS) assert.deepEqual(countsByKey(out).get(k), [1, 2, 3, 4], `counts of ${k}`);
    await a.close();
  });

  test(`[${backend.name}] stream–table join on the log: table restored at start and kept up to date; co-partitioning checked`, opts, async (t) => {
    options.gate?.();
    const log = await backend.open(t);
    const [names, events, joined, wide] = ['names', 'events', 'joined', 'wide'].map((n) => backend.unique(n)) as [string, string, string, string];
    await createTopics(log, { [names]: 2, [events]: 2, [joined]: 1, [wide]: 3 });
    const b = topology();
    const table = b.table(names, { key, value: stringCodec });
    b.stream(events, codecs)
      .join(table, (v, name) => `${name}:${v}`)
      .to(joined, { key, value: stringCodec });
    const topo = b.build();
    await produce(log, [
      { topic: names, key: bytes('d1'), value: bytes('pump') },
      { topic: names, key: bytes('d2'), value: bytes('fan') },
    ]);
    const app = await run(topo, { log, applicationId: backend.unique('joiner'), ...fast });
    t.after(() => app.close());
    await produce(log, [
      { topic: events, key: bytes('d1'), value: bytes('1') },
      { topic: events, key: bytes('d2'), value: bytes('2') },
      { topic: events, key: bytes('d3'), value: bytes('3') },
    ]);
    const first = await readTopic(log, joined, 2, waitMs);
    assert.deepEqual(first.map((r) => text(r.value)).sort(), ['fan:2', 'pump:1']);
    await produce(log, [{ topic: names, key: bytes('d3'), value: bytes('valve') }]);
    await eventually(async () => {
      await produce(log, [{ topic: events, key: bytes('d3'), value: bytes('4') }]);
      const all = await readTopic(log, joined, 3, 2_000).catch(() => []);
      return all.some((r) => text(r.value) === 'valve:4');
    }, { message: 'a table update reaches the join', timeoutMs: waitMs });
    await app.close();

    const bad = topology();
    bad.stream(wide, codecs).join(bad.table(names, { key, value: stringCodec }), (v) => v).to(joined, codecs);
    await expectCode(run(bad.build(), { log, applicationId: backend.unique('bad-join'), ...fast }), 'SLUICE_STREAM_INVALID_TOPOLOGY', 'co-partitioned', 'repartition');
  });

  test(`[${backend.name}] global table on the log: all partitions on every instance, updates followed`, opts, async (t) => {
    options.gate?.();
    const log = await backend.open(t);
    const [models, telemetry, scored] = ['models', 'telemetry', 'scored'].map((n) => backend.unique(n)) as [string, string, string];
    await createTopics(log, { [models]: 3, [telemetry]: 2, [scored]: 1 });
    await produce(log, ['m1', 'm2', 'm3', 'm4'].map((m, i) => ({ topic: models, key: bytes(m), value: bytes(String((i + 1) * 10)) })));
    const b = topology();
    const table = b.globalTable(models, { key, value: num });
    b.stream(telemetry, { key, value: jsonCodec<{ model: string; x: number }>() })
      .join(table, (v, threshold) => v.x > threshold, { key: (r) => r.value.model })
      .to(scored, { key, value: jsonCodec<boolean>() });
    const app = await run(b.build(), { log, applicationId: backend.unique('scorer'), ...fast });
    t.after(() => app.close());
    const tel = (dev: string, model: string, x: number) => ({ topic: telemetry, key: bytes(dev), value: bytes(JSON.stringify({ model, x })) });
    await produce(log, [tel('a', 'm1', 15), tel('b', 'm4', 15), tel('c', 'm9', 15)]);
    const out = await readTopic(log, scored, 2, waitMs);
    assert.deepEqual(out.map((r) => `${text(r.key!)}=${text(r.value)}`).sort(), ['a=true', 'b=false']);
    await produce(log, [{ topic: models, key: bytes('m4'), value: bytes('1') }]);
    await eventually(async () => {
      await produce(log, [tel('b', 'm4', 15)]);
      const all = await readTopic(log, scored, 3, 2_000).catch(() => []);
      return all.some((r) => text(r.key!) === 'b' && text(r.value) === 'true');
    }, { message: 'the model update reaches the join', timeoutMs: waitMs });
    await app.close();
  });
}
