/**
 * The windowed runtime scenarios, parameterised by backend (window-runtime.test.ts runs them on the
 * embedded log, window-runtime-kafka.test.ts on the Kafka test broker): a suppressed tumbling count
 * per device that survives a restart mid-stream (at-least-once), and session counts whose merges
 * retract the replaced sessions on the update topic (tombstones) and stay retracted after a
 * restart restores the store from its changelog.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { run, SessionWindows, TimeWindows, TOMBSTONE_HEADER, topology, untilWindowCloses, windowedCodec } from '../../src/stream/index.ts';
import { bytes, eventually } from '../helpers.ts';
import type { StreamBackend } from './backends.ts';
import { createTopics, produce, readTopic } from './runtime-helpers.ts';

interface Reading {
  readonly ts: number;
  readonly temp: number;
}

const DEVICES = Array.from({ length: 6 }, (_, i) => `dev-${i}`);
const WINDOW = 1_000;

/** Registers the window scenario for `backend` (`skip`: reason to skip; `gate` runs first, throws to fail). */
export function windowScenarios(backend: StreamBackend, options: { readonly skip?: string | false; readonly gate?: () => void } = {}): void {
  const { waitMs, fast } = backend;
  test(`[${backend.name}] a suppressed tumbling count per device on the log: restart mid-way keeps every window exact, none lost`, { skip: options.skip ?? false, timeout: 6 * waitMs }, async (t) => {
    options.gate?.();
    const log = await backend.open(t);
    const telemetry = backend.unique('telemetry');
    const countsTopic = backend.unique('counts');
    const applicationId = backend.unique('windows');
    /** Three readings per device in each window `from..to-1`, in time order across devices; window 4 is split over both phases. */
    const readings = (from: number, to: number, only?: (i: number) => boolean) => {
      const out = [];
      for (let w = from; w < to; w++) {
        for (let i = 0; i < 3; i++) {
          if (only !== undefined && !only(w * 3 + i)) continue;
          for (const d of DEVICES) {
            const ts = 1_000_000 + w * WINDOW + i * 300;
            out.push({ topic: telemetry, key: bytes(d), value: bytes(JSON.stringify({ ts, temp: 20 + i })) });
          }
        }
      }
      return out;
    };
    await createTopics(log, { [telemetry]: 3, [countsTopic]: 3 });
    const b = topology();
    b.stream(telemetry, { key: stringCodec, value: jsonCodec<Reading>(), timestamp: (_raw, kv) => kv.value.ts })
      .groupByKey()
      .windowedBy(TimeWindows.of(WINDOW).grace(0))
      .count({ name: 'per-device' })
      .suppress(untilWindowCloses())
      .toStream()
      .to(countsTopic, { key: windowedCodec(stringCodec), value: jsonCodec<number>() });
    const topo = b.build();
    const runOptions = { log, applicationId, ...fast } as const;

    // phase 1: windows 0..3 and the first two readings of window 4
    const first = await run(topo, runOptions);
    t.after(() => first.close());
    await produce(log, [...readings(0, 4), ...readings(4, 5, (n) => n < 4 * 3 + 2)]);
    await readTopic(log, countsTopic, DEVICES.length * 4, waitMs);
    await eventually(() => first.metrics().tasks.reduce((n, m) => n + m.recordsIn, 0) === DEVICES.length * 14, { message: 'phase 1 processed', timeoutMs: waitMs });
    await first.close();

    // phase 2, after a restart: the rest of window 4, windows 5..9, then one reading per device far later (closes everything)
    const second = await run(topo, runOptions);
    t.after(() => second.close());
    const closer = DEVICES.map((d) => ({ topic: telemetry, key: bytes(d), value: bytes(JSON.stringify({ ts: 1_000_000 + 20 * WINDOW, temp: 0 })) }));
    await produce(log, [...readings(4, 5, (n) => n >= 4 * 3 + 2), ...readings(5, 10), ...closer]);
    const expected = DEVICES.length * 10;
    const out = await readTopic(log, countsTopic, expected, waitMs);
    const codec = windowedCodec(stringCodec);
    const finals = out.map((r) => ({ w: codec.decode(r.key!), n: Number(new TextDecoder().decode(r.value)) }));
    const seen = new Map<string, number[]>();
    for (const { w, n } of finals) {
      const id = `${w.key}@${(w.start - 1_000_000) / WINDOW}`;
      seen.set(id, [...(seen.get(id) ?? []), n]);
      assert.equal(w.end - w.start, WINDOW);
    }
    for (const d of DEVICES) {
      for (let w = 0; w < 10; w++) assert.deepEqual(seen.get(`${d}@${w}`), [3], `final count of ${d} in window ${w}`);
    }
    assert.equal(finals.length, expected, 'each window emitted once');
    assert.equal(second.metrics().tasks.reduce((n, m) => n + m.lateRecords, 0), 0);
    const { config } = await log.admin.describeTopic(`${applicationId}-per-device-changelog`);
    assert.equal(config.cleanupPolicy, 'compact');
    assert.equal(config.retentionMs, null, 'no time-based retention: old event times never delete window state');
    await second.close();
  });

  test(`[${backend.name}] session merges retract the replaced sessions on the update topic; a restart does not bring them back`, { skip: options.skip ?? false, timeout: 6 * waitMs }, async (t) => {
    options.gate?.();
    const log = await backend.open(t);
    const input = backend.unique('clicks');
    const updatesTopic = backend.unique('session-updates');
    const finalsTopic = backend.unique('session-finals');
    const applicationId = backend.unique('sessions');
    await createTopics(log, { [input]: 1, [updatesTopic]: 1, [finalsTopic]: 1 });
    const T = 1_000_000;
    const clicks = (list: readonly (readonly [string, number])[]) => list.map(([k, at]) => ({ topic: input, key: bytes(k), value: bytes(String(T + at)) }));
    const b = topology();
    const sessions = b
      .stream(input, { key: stringCodec, value: jsonCodec<number>(), timestamp: (_raw, kv) => kv.value })
      .groupByKey()
      .windowedBy(SessionWindows.withInactivityGap(1_000).grace(5_000))
      .count({ name: 'per-user' });
    const codecs = { key: windowedCodec(stringCodec), value: jsonCodec<number>() };
    sessions.toStream().to(updatesTopic, codecs);
    sessions.suppress(untilWindowCloses()).toStream().to(finalsTopic, codecs);
    const topo = b.build();
    const runOptions = { log, applicationId, ...fast } as const;
    const show = (r: { key: Uint8Array | null; value: Uint8Array; headers: Readonly<Record<string, Uint8Array>> }): string => {
      const w = codecs.key.decode(r.key!);
      const id = `${w.key}[${w.start - T},${w.end - T}]`;
      if (r.headers[TOMBSTONE_HEADER] === undefined) return `${id}=${codecs.value.decode(r.value)}`;
      assert.equal(r.value.length, 0, 'a retraction is a tombstone: an empty value');
      return `-${id}`;
    };

    // phase 1: a@0 and a@1800 are two sessions until a@900 bridges them; b@500 extends b@0.
    const first = await run(topo, runOptions);
    t.after(() => first.close());
    await produce(log, clicks([['a', 0], ['a', 1800], ['b', 0], ['a', 900], ['b', 500]]));
    const phase1 = (await readTopic(log, updatesTopic, 8, waitMs)).map(show);
    assert.deepEqual(phase1, ['a[0,0]=1', 'a[1800,1800]=1', 'b[0,0]=1', '-a[0,0]', '-a[1800,1800]', 'a[0,1800]=3', '-b[0,0]', 'b[0,500]=2']);
    await eventually(() => first.metrics().tasks.reduce((n, m) => n + m.recordsIn, 0) === 5, { message: 'phase 1 processed', timeoutMs: waitMs });
    await first.close();

    // phase 2, restored from the changelog: a@2500 extends [0,1800] (with [1800,1800] back, it
    // would merge that too: a count of 5); b@1200 extends [0,500]; a@20000 and b@20000 close the rest.
    const second = await run(topo, runOptions);
    t.after(() => second.close());
    await produce(log, clicks([['a', 2500], ['b', 1200], ['a', 20_000], ['b', 20_000]]));
    const all = (await readTopic(log, updatesTopic, 14, waitMs)).map(show);
    assert.deepEqual(all.slice(8), ['-a[0,1800]', 'a[0,2500]=4', '-b[0,500]', 'b[0,1200]=3', 'a[20000,20000]=1', 'b[20000,20000]=1']);
    const finals = (await readTopic(log, finalsTopic, 2, waitMs)).map(show);
    assert.deepEqual(finals, ['b[0,1200]=3', 'a[0,2500]=4'], 'only sessions never retracted are final (in close-time order)');
    await second.close();
  });
}
