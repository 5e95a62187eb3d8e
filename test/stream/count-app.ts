/**
 * Child process of test/stream/rebalance-3.test.ts: one instance of a counting application
 * (count per key in a store with a changelog → output topic), run until SIGKILLed or told to stop.
 *
 * Prints `ready` once running, `tasks <id,id,...>` whenever its set of tasks changes,
 * `committed <id>=<offset>,...` whenever the committed input offsets of its tasks change, and
 * `closed` after a clean close on a `stop` line on stdin.
 *
 * Usage: node count-app.ts <embedded:<dir> | kafka> <in> <out> <applicationId> <at-least-once|exactly-once> <instanceId>
 */
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DEFAULT_TEST_BROKER } from '../../src/log/config.ts';
import { jsonCodec, openLog, stringCodec } from '../../src/log/index.ts';
import type { Log } from '../../src/log/types.ts';
import { run, topology, type DeliveryMode } from '../../src/stream/index.ts';

const [where, input, output, applicationId, delivery, instanceId] = process.argv.slice(2);
if (
  where === undefined ||
  input === undefined ||
  output === undefined ||
  applicationId === undefined ||
  (delivery !== 'at-least-once' && delivery !== 'exactly-once') ||
  instanceId === undefined
) {
  throw new Error('usage: count-app.ts <embedded:<dir> | kafka> <in> <out> <applicationId> <at-least-once|exactly-once> <instanceId>');
}

const log: Log = where === 'kafka' ? await openLog({ backend: 'kafka', brokers: [DEFAULT_TEST_BROKER] }) : await openLog({ backend: 'embedded', dir: where.slice('embedded:'.length) });

const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;
const b = topology();
b.stream(input, codecs).groupByKey().count({ name: 'counts' }).toStream().to(output, codecs);

const app = await run(b.build(), {
  log,
  applicationId,
  delivery: delivery as DeliveryMode,
  instanceId,
  pollTimeoutMs: 20,
  sessionTimeoutMs: where === 'kafka' ? 6_000 : 1_000,
  heartbeatIntervalMs: where === 'kafka' ? 500 : 100,
  onError: (error) => {
    process.stderr.write(`stream failed: ${error.stack ?? String(error)}\n`);
    process.exit(2);
  },
});
writeSync(1, 'ready\n');

let lastTasks = '';
let lastCommitted = '';
const timer = setInterval(() => {
  const ids = app.taskIds().sort().join(',');
  if (ids !== lastTasks) {
    lastTasks = ids;
    writeSync(1, `tasks ${ids}\n`);
  }
  const committed = app
    .metrics()
    .tasks.map((m) => `${m.taskId}=${m.committedOffset ?? 0}`)
    .sort()
    .join(',');
  if (committed !== lastCommitted) {
    lastCommitted = committed;
    writeSync(1, `committed ${committed}\n`);
  }
}, 20);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stop') return;
  void (async () => {
    clearInterval(timer);
    await app.close();
    await log.close();
    writeSync(1, 'closed\n');
    process.exit(0);
  })();
});
