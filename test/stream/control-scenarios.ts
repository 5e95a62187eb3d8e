/**
 * The control-stream runtime scenarios, parameterised by backend (control-runtime.test.ts runs
 * them on the embedded log, control-runtime-kafka.test.ts on the Kafka test broker): two instances
 * each applying a control record before the data appended after it; an instance joining later
 * replayed the current control state; an instance without partitions hearing every control record
 * through its instance listener, then taking over; exactly-once with a control stream across a
 * restart; bad control records under the dead-letter and fail policies.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import type { Log, LogRecord } from '../../src/log/types.ts';
import { DeadLetterHeader, run, topology, type ConnectedProcessor, type ErrorPolicyOptions, type ProcessorContext, type RunOptions, type Topology } from '../../src/stream/index.ts';
import { bytes, eventually, expectCode, text } from '../helpers.ts';
import type { StreamBackend } from './backends.ts';
import { createTopics, produce, readTopic } from './runtime-helpers.ts';

type Model = { readonly version: number };
/** An output: which instance scored data record `round` of `key`, with which model version. */
type Scored = { readonly label: string; readonly key: string; readonly round: number; readonly version: number | null };
const key = stringCodec;
const scoredCodec = jsonCodec<Scored>();
const KEYS = Array.from({ length: 12 }, (_, i) => `dev-${i}`);

/**
 * data (value: the round number) connected to control (model `m`'s version); tags each record.
 * `heard` gets the versions of `m` the instance listener hears.
 */
function scorer(names: Names, label: string, errors?: ErrorPolicyOptions, heard?: number[]): Topology {
  const b = topology(errors === undefined ? {} : { errors });
  const perInstance = heard === undefined ? {} : { perInstance: () => (r: { key: string; value: Model }) => void (r.key === 'm' && heard.push(r.value.version)) };
  const models = b.control(names.models, { key, value: jsonCodec<Model>(), ...perInstance });
  b.stream(names.input, { key, value: jsonCodec<number>() })
    .connect(models, (): ConnectedProcessor<string, number, string, Model, string, Scored> => {
      let version: number | null = null;
      let ctx: ProcessorContext<string, Scored>;
      return {
        init(context) {
          ctx = context;
        },
        control(r) {
          if (r.key === 'm') version = r.value.version;
        },
        process(r) {
          return ctx.forward({ ...r, value: { label, key: r.key, round: r.value, version } });
        },
      };
    })
    .to(names.output, { key, value: scoredCodec });
  return b.build();
}

interface Names {
  readonly input: string;
  readonly models: string;
  readonly output: string;
}

function decode(records: readonly LogRecord[]): Scored[] {
  return records.map((r) => scoredCodec.decode(r.value));
}

/** Options of {@link controlScenarios}. */
export interface ControlScenarioOptions {
  /** Skip every scenario with this reason (no broker), or false. */
  readonly skip?: string | false;
  /** Runs first in each test; throws to fail it (a missing broker under CI). */
  readonly gate?: () => void;
}

/** Registers the control-stream scenarios for `backend`. */
export function controlScenarios(backend: StreamBackend, options: ControlScenarioOptions = {}): void {
  const { waitMs, fast } = backend;
  const opts = { skip: options.skip ?? false, timeout: 6 * waitMs };
  const begin = async (t: TestContext): Promise<{ log: Log; names: Names; runOptions: RunOptions }> => {
    options.gate?.();
    const log = await backend.open(t);
    const names = { input: backend.unique('in'), models: backend.unique('models'), output: backend.unique('out') };
    await createTopics(log, { [names.input]: 4, [names.models]: 2, [names.output]: 1 });
    return { log, names, runOptions: { log, applicationId: backend.unique('scorer'), ...fast } };
  };
  const setModel = (log: Log, names: Names, version: number, k = 'm') =>
    produce(log, [{ topic: names.models, key: bytes(k), value: bytes(JSON.stringify({ version })) }]);
  const sendRound = (log: Log, names: Names, round: number) =>
    produce(log, KEYS.map((k) => ({ topic: names.input, key: bytes(k), value: bytes(String(round)) })));

  test(`[${backend.name}] two instances: every task applies a control record before the data appended after it`, opts, async (t) => {
    const { log, names, runOptions } = await begin(t);
    const a = await run(scorer(names, 'A'), runOptions);
    t.after(() => a.close());
    const b = await run(scorer(names, 'B'), runOptions);
    t.after(() => b.close());
    await eventually(() => a.taskIds().length === 2 && b.taskIds().length === 2, { message: 'tasks split 2/2', timeoutMs: waitMs });
    for (let round = 1; round <= 3; round++) {
      await setModel(log, names, round);
      await sendRound(log, names, round);
      const out = decode(await readTopic(log, names.output, round * KEYS.length, waitMs)).filter((s) => s.round === round);
      assert.equal(out.length, KEYS.length, `round ${round} scored once per key`);
      for (const s of out) assert.equal(s.version, round, `${s.key} in round ${round} (instance ${s.label}) scored with version ${s.version}`);
      if (round === 1) assert.deepEqual([...new Set(out.map((s) => s.label))].sort(), ['A', 'B'], 'both instances scored');
    }
    for (const app of [a, b]) {
      assert.deepEqual(app.metrics().controls.map((c) => [c.recordsIn, c.keys, c.errors]), [[3, 1, 0]]);
      for (const m of app.metrics().tasks) assert.ok(m.controlRecords >= 1, `task ${m.taskId} applied control records`);
    }
    await a.close();
    await b.close();
  });

  test(`[${backend.name}] an instance joining later is replayed the current control state before its first data record`, opts, async (t) => {
    const { log, names, runOptions } = await begin(t);
    const a = await run(scorer(names, 'A'), runOptions);
    t.after(() => a.close());
    await setModel(log, names, 1);
    await setModel(log, names, 5, 'other');
    await setModel(log, names, 2);
    await sendRound(log, names, 1);
    assert.ok(decode(await readTopic(log, names.output, KEYS.length, waitMs)).every((s) => s.version === 2));

    const b = await run(scorer(names, 'B'), runOptions);
    t.after(() => b.close());
    await eventually(() => a.taskIds().length === 2 && b.taskIds().length === 2, { message: 'tasks split 2/2', timeoutMs: waitMs });
    // B read the whole control topic at start; each of its tasks was replayed the latest per key.
    assert.deepEqual(b.metrics().controls.map((c) => [c.recordsIn, c.keys]), [[3, 2]]);
    for (const m of b.metrics().tasks) assert.equal(m.controlRecords, 2, `task ${m.taskId} replayed 2 keys`);
    await sendRound(log, names, 2);
    const out = decode(await readTopic(log, names.output, 2 * KEYS.length, waitMs)).filter((s) => s.round === 2);
    assert.ok(out.some((s) => s.label === 'B'), 'B scored some records');
    for (const s of out) assert.equal(s.version, 2, `${s.key} scored by ${s.label}`);
    await a.close();
    await b.close();
  });

  test(`[${backend.name}] an instance without partitions hears every control record through its listener, then takes over with the latest`, opts, async (t) => {
    const { log, names: base, runOptions } = await begin(t);
    const names = { ...base, input: backend.unique('in-one') };
    await createTopics(log, { [names.input]: 1 });
    const heard = { A: [] as number[], B: [] as number[] };
    const a = await run(scorer(names, 'A', undefined, heard.A), runOptions);
    t.after(() => a.close());
    await eventually(() => a.taskIds().length === 1, { message: 'A holds the partition', timeoutMs: waitMs });
    const b = await run(scorer(names, 'B', undefined, heard.B), runOptions);
    t.after(() => b.close());
    await setModel(log, names, 1);
    await eventually(() => heard.A.length === 1 && heard.B.length === 1, { message: 'both instances heard version 1', timeoutMs: waitMs });
    assert.equal(a.taskIds().length + b.taskIds().length, 1, 'one partition, one task');
    const [active, idle, idleHeard] = a.taskIds().length === 1 ? [a, b, heard.B] : [b, a, heard.A];
    await setModel(log, names, 2);
    await setModel(log, names, 3);
    await eventually(() => idleHeard.join() === '1,2,3', { message: `the idle instance heard every version (${idleHeard.join()})`, timeoutMs: waitMs });
    assert.deepEqual(idle.metrics().tasks, [], 'while it holds no partition');
    await active.close();
    await eventually(() => idle.taskIds().length === 1, { message: 'the idle instance took the partition', timeoutMs: waitMs });
    await produce(log, [{ topic: names.input, key: bytes('dev-0'), value: bytes('1') }]);
    const [scored] = decode(await readTopic(log, names.output, 1, waitMs));
    assert.deepEqual([scored!.label, scored!.version], [idle === a ? 'A' : 'B', 3]);
    await idle.close();
  });

  test(`[${backend.name}] exactly-once with a control stream: ordering holds, and a restart re-reads the control topic`, opts, async (t) => {
    const { log, names, runOptions } = await begin(t);
    const eos = { ...runOptions, delivery: 'exactly-once', instanceId: 'one' } as const;
    const first = await run(scorer(names, 'A'), eos);
    t.after(() => first.close());
    for (let round = 1; round <= 2; round++) {
      await setModel(log, names, round);
      await sendRound(log, names, round);
      const out = decode(await readTopic(log, names.output, round * KEYS.length, waitMs)).filter((s) => s.round === round);
      assert.deepEqual(out.map((s) => s.version), KEYS.map(() => round));
    }
    assert.ok(first.metrics().transactionsCommitted > 0);
    await first.close();

    const second = await run(scorer(names, 'B'), eos);
    t.after(() => second.close());
    await sendRound(log, names, 3);
    const all = decode(await readTopic(log, names.output, 3 * KEYS.length, waitMs));
    assert.equal(all.length, 3 * KEYS.length, 'no duplicates after the restart');
    assert.deepEqual(all.filter((s) => s.round === 3).map((s) => [s.label, s.version]), KEYS.map(() => ['B', 2]));
    await second.close();
  });

  test(`[${backend.name}] a missing control topic is named; undecodable control records are dead-lettered, or run() fails naming the record`, opts, async (t) => {
    const { log, names, runOptions } = await begin(t);
    const missing = { ...names, models: backend.unique('absent') };
    await expectCode(run(scorer(missing, 'A'), runOptions), 'SLUICE_LOG_UNKNOWN_TOPIC', `control topic '${missing.models}' does not exist`);
    const dlq = backend.unique('dlq');
    await produce(log, [{ topic: names.models, key: bytes('m'), value: bytes('{not json'), partition: 1 }]);
    await setModel(log, names, 4);
    await expectCode(run(scorer(names, 'A'), runOptions), 'SLUICE_STREAM_DESERIALIZATION', `${names.models}/1@0`);

    const app = await run(scorer(names, 'A', { onError: 'dead-letter', deadLetterTopic: dlq }), runOptions);
    t.after(() => app.close());
    const [dead] = await readTopic(log, dlq, 1, waitMs);
    assert.equal(text(dead!.value), '{not json');
    assert.equal(text(dead!.headers[DeadLetterHeader.sourceTopic]!), names.models);
    assert.deepEqual(app.metrics().controls.map((c) => [c.recordsIn, c.deadLettered, c.keys]), [[2, 1, 1]]);
    await sendRound(log, names, 1);
    assert.ok(decode(await readTopic(log, names.output, KEYS.length, waitMs)).every((s) => s.version === 4));
    await app.close();
  });
}
