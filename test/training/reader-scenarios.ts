/**
 * Reading a range of telemetry, parameterised by backend: reader.test.ts runs the scenarios on the
 * embedded log, reader-kafka.test.ts on the Kafka test broker. Expected records are computed from
 * what was produced (event times, and the partition and offset each record landed at).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import type { Log, RecordMetadata, Telemetry } from '../../src/log/index.ts';
import { readTelemetryRange, type ReadRangeOptions } from '../../src/training/reader.ts';
import type { ResolvedRange } from '../../src/training/range.ts';
import { bytes, expectCode } from '../helpers.ts';
import type { StreamBackend } from '../stream/backends.ts';
import { fleetTelemetry, produceTelemetry } from './fleet.ts';

const START = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const STEP = 60_000;

/** Options of {@link readerScenarios}. */
export interface ReaderScenarioOptions {
  readonly skip?: string | false;
  readonly gate?: () => void;
}

interface Fixture {
  readonly log: Log;
  readonly topic: string;
  readonly records: readonly Telemetry[];
  readonly landed: readonly RecordMetadata[];
  read(range: ResolvedRange): ReturnType<typeof readTelemetryRange>;
}

async function fixture(t: TestContext, backend: StreamBackend): Promise<Fixture> {
  const log = await backend.open(t);
  const topic = backend.unique('telemetry');
  const records = fleetTelemetry({ classes: { pump: ['p1', 'p2', 'p3'], fan: ['f1'] }, records: 300, start: START, stepMs: STEP });
  const landed = await produceTelemetry(log, topic, records, 3);
  const base: Omit<ReadRangeOptions, 'range'> = {
    topic,
    classTag: 'class',
    sampling: { maxRecords: 1_000_000, maxRecordsPerSeries: 1_000_000, maxSeries: 1_000 },
    pollTimeoutMs: 100,
    stallTimeoutMs: 10_000,
  };
  return { log, topic, records, landed, read: (range) => readTelemetryRange(log, { ...base, range }) };
}

/** Per device, the event times read (in read order). */
function timesByDevice(series: Awaited<ReturnType<typeof readTelemetryRange>>['series']): Map<string, number[]> {
  return new Map(series.map((s) => [s.deviceId, [...s.ts]]));
}

/** Per device, the event times of the records `keep` selects (in produce order, which is read order per device). */
function expected(f: Fixture, keep: (t: Telemetry, at: RecordMetadata) => boolean): Map<string, number[]> {
  const out = new Map<string, number[]>();
  f.records.forEach((t, i) => {
    if (!keep(t, f.landed[i]!)) return;
    out.set(t.deviceId, [...(out.get(t.deviceId) ?? []), t.ts]);
  });
  return out;
}

function sorted(m: Map<string, number[]>): [string, number[]][] {
  return [...m].sort(([a], [b]) => a.localeCompare(b));
}

/** Registers the reader scenarios for `backend`. */
export function readerScenarios(backend: StreamBackend, options: ReaderScenarioOptions = {}): void {
  const skip = options.skip ?? false;
  const name = (s: string): string => `${backend.name}: ${s}`;

  test(name('a time range [from, to) reads exactly the records with timestamps in it'), { skip }, async (t) => {
    options.gate?.();
    const f = await fixture(t, backend);
    const from = START + 100 * STEP + 30_000;
    const to = START + 250 * STEP;
    const read = await f.read({ by: 'time', from, to });
    const want = expected(f, (r) => r.ts >= from && r.ts < to);
    assert.deepEqual(sorted(timesByDevice(read.series)), sorted(want));
    assert.equal(read.records, [...want.values()].reduce((n, list) => n + list.length, 0));
    assert.equal(read.records, 4 * 149, 'minutes 101 to 249 of 4 devices');
    assert.equal(read.partitions.reduce((n, p) => n + p.records, 0), read.records);
    assert.equal(read.invalid, 0);

    const open = await f.read({ by: 'time', from: START + 290 * STEP });
    assert.deepEqual(sorted(timesByDevice(open.series)), sorted(expected(f, (r) => r.ts >= START + 290 * STEP)), 'no to: up to the end');
    const none = await f.read({ by: 'time', from: START + 1_000 * STEP });
    assert.equal(none.records, 0);
    assert.deepEqual(none.series, []);
  });

  test(name('an offset range reads [from, to) of every partition, or per partition'), { skip }, async (t) => {
    options.gate?.();
    const f = await fixture(t, backend);
    const all = await f.read({ by: 'offset', from: 20, to: 120 });
    assert.deepEqual(sorted(timesByDevice(all.series)), sorted(expected(f, (_r, at) => at.offset >= 20 && at.offset < 120)));
    for (const p of all.partitions) {
      const held = f.landed.filter((l) => l.partition === p.partition).length;
      assert.deepEqual([p.fromOffset, p.toOffset, p.stalled], [Math.min(20, held), Math.min(120, held), false], `partition ${p.partition} holds ${held}`);
    }

    const used = [...new Set(f.landed.map((l) => l.partition))].sort();
    const [first, second] = used;
    const per = await f.read({ by: 'offset', from: { [first!]: 50 }, to: { [second!]: 10 } });
    const want = expected(f, (_r, at) => (at.partition === first ? at.offset >= 50 : at.partition === second ? at.offset < 10 : true));
    assert.deepEqual(sorted(timesByDevice(per.series)), sorted(want));
  });

  test(name('records that are not valid telemetry are counted and skipped; a missing partition is a range error'), { skip }, async (t) => {
    options.gate?.();
    const f = await fixture(t, backend);
    const producer = f.log.producer();
    await producer.send([
      { topic: f.topic, partition: 0, key: bytes('junk'), value: bytes('not telemetry'), timestamp: START + 400 * STEP },
      { topic: f.topic, partition: 1, key: bytes('junk'), value: bytes('{}'), timestamp: START + 401 * STEP },
    ]);
    await producer.close();
    const read = await f.read({ by: 'time', from: START + 299 * STEP });
    assert.equal(read.invalid, 2);
    assert.equal(read.records, 4);
    await expectCode(f.read({ by: 'offset', from: { 7: 0 } }), ErrorCode.TRAINING_INVALID_RANGE, 'has no partition 7', f.topic);
    await expectCode(readTelemetryRange(f.log, { topic: backend.unique('missing'), range: { by: 'offset' }, classTag: 'class', sampling: { maxRecords: 10, maxRecordsPerSeries: 10, maxSeries: 10 }, pollTimeoutMs: 100, stallTimeoutMs: 1_000 }), ErrorCode.LOG_UNKNOWN_TOPIC);
  });
}
