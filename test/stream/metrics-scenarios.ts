/**
 * The runtime's lag and throughput metrics, parameterised by backend (metrics-runtime.test.ts on
 * the embedded log, metrics-runtime-kafka.test.ts on the Kafka test broker): records waiting
 * behind a blocked record show as lag, and the lag drops to 0 once they are processed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { run, topology } from '../../src/stream/index.ts';
import { bytes, eventually } from '../helpers.ts';
import type { StreamBackend } from './backends.ts';
import { createTopics, produce } from './runtime-helpers.ts';

/** Options of {@link metricsScenarios}. */
export interface MetricsScenarioOptions {
  /** Skip every scenario with this reason (no broker), or false. */
  readonly skip?: string | false;
  /** Runs first in each test; throws to fail it (a missing broker under CI). */
  readonly gate?: () => void;
}

/** Registers the metrics scenarios for `backend`. */
export function metricsScenarios(backend: StreamBackend, options: MetricsScenarioOptions = {}): void {
  const { waitMs, fast } = backend;
  test(`[${backend.name}] lag counts the records waiting behind the one being processed, and is 0 once caught up`, { skip: options.skip ?? false, timeout: 3 * waitMs }, async (t) => {
    options.gate?.();
    const log = await backend.open(t);
    const input = backend.unique('in');
    await createTopics(log, { [input]: 1 });
    await produce(log, Array.from({ length: 100 }, (_, i) => ({ topic: input, key: bytes('k'), value: bytes(String(i)) })));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const b = topology();
    b.stream(input, { key: stringCodec, value: jsonCodec<number>() }).forEach((r) => (r.value === 50 ? gate : undefined));
    const app = await run(b.build(), { log, applicationId: backend.unique('lagging'), ...fast, maxBatchRecords: 10, lagRefreshMs: 50 });
    t.after(() => {
      release();
      return app.close();
    });
    // Held at offset 50: offsets 50..99 are not processed.
    await eventually(() => app.metrics().tasks[0]?.lag === 50, { message: 'lag 50 while record 50 is held', timeoutMs: waitMs });
    assert.equal(app.metrics().lag, 50);
    release();
    await eventually(() => app.metrics().tasks[0]?.lag === 0, { message: 'lag 0 once caught up', timeoutMs: waitMs });
    const [m] = app.metrics().tasks;
    assert.equal(m!.recordsIn, 100);
    assert.ok(m!.recordsPerSecond > 0, `throughput ${m!.recordsPerSecond}`);
    await app.close();
  });
}
