/**
 * Child process of bench/pipeline.ts: one serving instance (startServing) on the benchmark's log,
 * run (pinned to one core by the parent with taskset) until a `stop` line on stdin. Prints JSON
 * lines on stdout: `{"event":"ready"}`, then every `progressMs` `{"event":"progress","t":<ms since
 * the epoch>,"records":<telemetry records handled>,"gc":{"markCompacts","scavenges","pauseMs"}}`
 * (the garbage collections so far, from perf_hooks), and `{"event":"stopped"}` after a clean close.
 *
 * Usage: node bench/pipeline-serve.ts '<json: { log, modelsDir, applicationId, topics, progressMs }>'
 */
import { writeSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { openLog, type LogConfig } from '../src/log/index.ts';
import { memoryLogger, startServing, type ServingTopics } from '../src/serving/index.ts';

interface Config {
  readonly log: LogConfig;
  readonly modelsDir: string;
  readonly applicationId: string;
  readonly topics: ServingTopics;
  readonly progressMs: number;
}

const config = JSON.parse(process.argv[2] ?? 'null') as Config | null;
if (config === null) throw new Error("usage: pipeline-serve.ts '<json: { log, modelsDir, applicationId, topics, progressMs }>'");
const say = (o: object): void => void writeSync(1, `${JSON.stringify(o)}\n`);

const log = await openLog(config.log);
const handle = await startServing({
  log,
  modelsDir: config.modelsDir,
  applicationId: config.applicationId,
  instanceId: `${config.applicationId}-${process.pid}`,
  topics: config.topics,
  partitions: 1,
  maxSkewMs: null,
  http: null,
  logger: memoryLogger(),
  // The stream runtime's defaults, as deployed (a 5 ms poll timeout here used to turn every pause
  // in the traffic into an idle offset commit: 3 points of the core at 1,000 records/s).
  stream: {},
});
handle.stopped().catch((error: unknown) => {
  process.stderr.write(`serving failed: ${String(error)}\n`);
  process.exit(2);
});
const gc = { markCompacts: 0, scavenges: 0, pauseMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    gc.pauseMs += e.duration;
    if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.markCompacts++;
    else if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.scavenges++;
  }
}).observe({ entryTypes: ['gc'] });
say({ event: 'ready' });
const timer = setInterval(() => say({ event: 'progress', t: Date.now(), records: handle.metrics().records, gc }), config.progressMs);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stop') return;
  void (async () => {
    clearInterval(timer);
    await handle.close();
    await log.close();
    say({ event: 'stopped' });
    process.exit(0);
  })();
});
