/**
 * `sluice start` as a user runs it: the reference system in a child process on a temporary embedded
 * log, checked by its output (models published, records scored, injected anomalies reported), by
 * what it left in the log and the model store, by its HTTP endpoint, and by how it stops.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openLog } from '../../src/log/index.ts';
import { ModelStore } from '../../src/model/index.ts';
import { tempDir } from '../helpers.ts';
import { runCli, startCli } from './run-cli.ts';

async function dataDir(t: TestContext): Promise<string> {
  const dir = await tempDir('sluice-start-');
  t.after(() => dir.remove());
  return dir.path;
}

/** Small and quick: 4 devices (one per class) at 200 records/s, first training after 1,000 records. */
const QUICK = ['--rate', '200', '--devices', '4', '--train-after', '1000', '--anomaly-every', '1500ms', '--http-port', '0', '--seed', '3'];

function summaryNumber(stdout: string, pattern: RegExp): number {
  const m = pattern.exec(stdout);
  assert.ok(m, `no ${pattern} in:\n${stdout}`);
  return Number(m[1]!.replaceAll(',', ''));
}

test('start --duration trains and publishes models, scores every record, reports injected anomalies, then stops by itself', async (t) => {
  const dir = await dataDir(t);
  const r = await runCli(t, ['start', '--dir', dir, '--duration', '13', ...QUICK], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, new RegExp(`^  data +the embedded log in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  assert.match(out, /^ {2}HTTP +http:\/\/127\.0\.0\.1:\d+\/models {2}http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
  assert.match(out, /npx sluice topics tail anomalies --dir /);
  assert.match(out, /^\s+0:01\s+\d+\s+0\s+0\s+0\s+none yet/m, 'a status line per second, no model at first');
  assert.match(out, /training #\d+: [\d,]+ records of 4 devices in .* → published class\.compressor@1, class\.fan@1, class\.motor@1, class\.pump@1/);
  assert.match(out, /^\s+\d+:\d\d\s+\d+\s+\d+\s+\d+\s+\d+\s+class\.compressor@1 class\.fan@1 class\.motor@1 class\.pump@1$/m, 'the status line lists the models serving');
  const injected = /^ {2}\+ \d+:\d\d injected #1: (spike|level-shift) on ([a-z]+-\d\d): /m.exec(out);
  assert.ok(injected, `no injection line in:\n${out}`);
  assert.match(out, /^ {2}! \d+:\d\d anomaly [a-z]+-\d\d #\d+: [a-z, ]+ · score \d\.\d\d · class\.[a-z]+@1 {2}← injected #\d+$/m, 'an anomaly line naming the injection it found');

  const produced = summaryNumber(out, /^ {2}telemetry +([\d,]+) records produced/m);
  const scored = summaryNumber(out, /records produced, ([\d,]+) scored/);
  const passed = summaryNumber(out, /([\d,]+) passed over before a model served/);
  assert.ok(scored > 0, 'records were scored');
  assert.equal(scored + passed, produced, 'every record produced was taken by serving');
  const detected = /injected anomalies detected: (\d+) of (\d+)/.exec(out);
  assert.ok(detected !== null && Number(detected[1]) >= 1 && Number(detected[2]) >= Number(detected[1]), out);
  assert.ok(summaryNumber(out, /^ {2}anomalies +([\d,]+) reported/m) >= Number(detected[1]));
  assert.equal(summaryNumber(out, /^ {2}models +(\d+) published/m), 4);
  assert.match(r.stdout, /^summary: stopped after \d/m);

  // What it left behind: the records, the anomalies, the models in the store.
  const log = await openLog({ backend: 'embedded', dir });
  t.after(() => log.close());
  const stored = async (topic: string): Promise<number> => (await log.admin.describeTopic(topic)).partitions.reduce((sum, p) => sum + p.endOffset - p.startOffset, 0);
  assert.equal(await stored('telemetry'), produced);
  assert.ok((await stored('anomalies')) >= Number(detected[1]));
  const models = (await new ModelStore({ dir: join(dir, 'models') }).list()).map((m) => m.name).sort();
  assert.deepEqual(models, ['class.compressor', 'class.fan', 'class.motor', 'class.pump']);
});

test('start serves /models over HTTP while it runs; Ctrl-C stops it cleanly with a summary; topics tail reads its records', async (t) => {
  const dir = await dataDir(t);
  const start = startCli(t, ['start', '--dir', dir, ...QUICK]);
  const url = (await start.waitFor(/^ {2}HTTP +(http:\/\/127\.0\.0\.1:\d+)\/models/m))[1]!;
  await start.waitFor(/^\s+0:01\s+[1-9]/m);
  const res = await fetch(`${url}/models`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { ready: boolean; models: unknown[] };
  assert.equal(body.ready, true);
  assert.ok(Array.isArray(body.models));

  const tail = await runCli(t, ['topics', 'tail', 'telemetry', '--dir', dir, '--from', 'earliest', '--max', '5']);
  assert.equal(tail.code, 0, tail.stderr);
  assert.match(tail.stdout, /^p[0-3] @\d+ \S+ [a-z]+-\d\d \{"deviceId":"[a-z]+-\d\d","ts":\d+,"seq":\d+,"metrics":\{/m);

  start.child.kill('SIGINT');
  assert.equal(await start.exit(), 0, start.stderr());
  assert.match(start.stdout(), /^summary: stopped on Ctrl-C after /m);
  assert.match(start.stdout(), /^ {2}telemetry +[1-9][\d,]* records produced/m);
});

test('start: a busy --http-port is an error naming the port; the busy default port falls back to a free one', async (t) => {
  const busy = await listen(0);
  t.after(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const dir = await dataDir(t);
  const r = await runCli(t, ['start', '--dir', dir, '--duration', '1', '--http-port', String(port)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^error \\[SLUICE_INVALID_ARGUMENT\\]: --http-port ${port}: the port is in use`, 'm'));

  // Hold 8080 if it is free; if something else holds it, the fallback is the same.
  const held = await listen(8080).catch(() => null);
  t.after(() => held?.close());
  const fallback = await runCli(t, ['start', '--dir', dir, '--duration', '1']);
  assert.equal(fallback.code, 0, fallback.stderr);
  assert.match(fallback.stdout, /^note: port 8080 is in use; serving's HTTP endpoint listens on port \d+ instead/m);
  assert.doesNotMatch(fallback.stdout, /^ {2}HTTP +http:\/\/127\.0\.0\.1:8080\//m);
});

test('start: bad flags exit 2 with the usage', async (t) => {
  for (const [args, named] of [
    [['--frobnicate'], '--frobnicate'],
    [['--retrain-every', 'soon'], '--retrain-every'],
    [['--detector', 'magic'], '--detector'],
    [['--rate', '-5'], '--rate'],
  ] as const) {
    const r = await runCli(t, ['start', ...args]);
    assert.equal(r.code, 2, `start ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^error: .*${named}`, 'm'));
    assert.match(r.stderr, /Usage: sluice start/);
  }
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
