/**
 * Child process of test/serving/failover-3-kafka.test.ts: one serving instance (startServing) on
 * the Kafka test broker, exactly-once, writing every scored record to a scores topic, with the
 * serving test detectors (the counter) available. Runs until SIGKILLed or told to stop.
 *
 * Prints `ready` once serving, then whenever they change: `tasks <id,id,...>` (its telemetry
 * partitions) and `models <name@version,...>` (its live models); `closed` after a clean close on a
 * `stop` line on stdin.
 *
 * Usage: node serve-app.ts '<json: { topics, modelsDir, applicationId, instanceId }>'
 */
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DEFAULT_TEST_BROKER } from '../../src/log/config.ts';
import { openLog } from '../../src/log/index.ts';
import { memoryLogger, startServing, type ServingTopics } from '../../src/serving/index.ts';
import { RAW_SCORES, testRegistry } from './helpers.ts';

interface Config {
  readonly topics: ServingTopics;
  readonly modelsDir: string;
  readonly applicationId: string;
  readonly instanceId: string;
}

const config = JSON.parse(process.argv[2] ?? 'null') as Config | null;
if (config === null) throw new Error("usage: serve-app.ts '<json: { topics, modelsDir, applicationId, instanceId }>'");

// The transaction timeout of the log's producers is its request timeout: 10 s bounds how long a
// killed instance's open transaction holds back its partitions' committed offsets.
const log = await openLog({ backend: 'kafka', brokers: [DEFAULT_TEST_BROKER], requestTimeoutMs: 10_000 });
const handle = await startServing({
  log,
  modelsDir: config.modelsDir,
  applicationId: config.applicationId,
  instanceId: config.instanceId,
  delivery: 'exactly-once',
  topics: config.topics,
  registry: testRegistry(),
  decider: RAW_SCORES,
  stateCheckpointMs: 0,
  http: null,
  logger: memoryLogger(),
  stream: { pollTimeoutMs: 20, heartbeatIntervalMs: 300, sessionTimeoutMs: 6_000, commitIntervalMs: 50 },
});
handle.stopped().catch((error: unknown) => {
  process.stderr.write(`serving failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
writeSync(1, 'ready\n');

let lastTasks = '';
let lastModels = '';
const timer = setInterval(() => {
  const m = handle.metrics();
  const tasks = (m.stream?.tasks ?? []).map((task) => task.taskId).sort().join(',');
  if (tasks !== lastTasks) {
    lastTasks = tasks;
    writeSync(1, `tasks ${tasks}\n`);
  }
  const models = m.models.models.map((model) => `${model.name}@${model.version}`).join(',');
  if (models !== lastModels) {
    lastModels = models;
    writeSync(1, `models ${models}\n`);
  }
}, 20);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stop') return;
  void (async () => {
    clearInterval(timer);
    await handle.close();
    await log.close();
    writeSync(1, 'closed\n');
    process.exit(0);
  })();
});
