/**
 * `sluice serve` and `sluice models` as a user runs them (child processes on a temporary data
 * directory): publish a model, watch it take over on /models, publish another, roll back; list;
 * mistakes on the command line and bad input.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openLog, telemetryCodec } from '../../src/log/index.ts';
import { createDescriptor, robustZScore } from '../../src/model/index.ts';
import type { ModelsReport } from '../../src/serving/index.ts';
import { eventually, tempDir } from '../helpers.ts';
import { runCli, startCli } from './run-cli.ts';

async function dataDir(t: TestContext): Promise<string> {
  const dir = await tempDir('sluice-serve-cli-');
  t.after(() => dir.remove());
  return dir.path;
}

async function descriptorFile(dir: string, version: number): Promise<string> {
  const model = robustZScore.fit([], { features: ['temp', 'vibration'] });
  const path = join(dir, `default-v${version}.json`);
  await writeFile(path, JSON.stringify(createDescriptor({ name: 'default', version, model }), null, 2));
  return path;
}

async function served(url: string): Promise<string[]> {
  const report = (await (await fetch(`${url}/models`)).json()) as ModelsReport;
  return report.models.map((m) => `${m.name}@${m.version}${m.rollback ? ' rollback' : ''}`);
}

test('serve, publish a model, watch it take over, publish another, roll back, list; SIGTERM stops it cleanly', async (t) => {
  const dir = await dataDir(t);
  const files = { v1: await descriptorFile(dir, 1), v2: await descriptorFile(dir, 2) };
  const data = join(dir, 'data');
  const serve = startCli(t, ['serve', '--data-dir', data, '--http-port', '0', '--json']);
  const ready = JSON.parse((await serve.waitFor(/^\{"event":"ready".*\}$/m, 30_000))[0]) as { url: string; port: number; models: string[] };
  assert.deepEqual(ready.models, []);
  assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await fetch(`${ready.url}/readyz`)).status, 200);

  const p1 = await runCli(t, ['models', 'publish', files.v1, '--data-dir', data]);
  assert.equal(p1.code, 0, p1.stderr);
  assert.match(p1.stdout, /^published default v1 \(robust-zscore, 2 features\) to models @0; stored in .*models$/m);
  await eventually(async () => assert.deepEqual(await served(ready.url), ['default@1']), { timeoutMs: 15_000, message: 'v1 takes over' });

  const log = await openLog({ backend: 'embedded', dir: data });
  t.after(() => log.close());
  const producer = log.producer();
  const enc = new TextEncoder();
  await producer.send(Array.from({ length: 20 }, (_, i) => ({ topic: 'telemetry', key: enc.encode('pump-1'), value: telemetryCodec.encode({ deviceId: 'pump-1', ts: Date.now(), seq: i, metrics: { temp: 60 + (i % 3), vibration: 1 } }) })));
  await producer.close();
  await eventually(async () => assert.match(await (await fetch(`${ready.url}/metrics`)).text(), /^sluice_serving_records_scored_total\{model="default",version="1",role="live"\} 20$/m), { timeoutMs: 15_000 });

  assert.equal((await runCli(t, ['models', 'publish', files.v2, '--data-dir', data])).code, 0);
  await eventually(async () => assert.deepEqual(await served(ready.url), ['default@2']), { timeoutMs: 15_000, message: 'v2 takes over' });

  const back = await runCli(t, ['models', 'rollback', 'default', '--data-dir', data]);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /^rolled back default: v2 → v1 \(published to models @2 with sluice\.rollback: 1\)$/m);
  await eventually(async () => assert.deepEqual(await served(ready.url), ['default@1 rollback']), { timeoutMs: 15_000, message: 'v1 is back' });

  const list = await runCli(t, ['models', 'list', '--data-dir', data]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^MODEL\s+STORED VERSIONS\s+PUBLISHED\s+SHADOW$/m);
  assert.match(list.stdout, /^default\s+1,2\s+v1 \(rollback\)\s+-$/m);

  serve.child.kill('SIGTERM');
  assert.equal(await serve.exit(), 0, serve.stderr());
  const stopped = JSON.parse(serve.stdout().trim().split('\n').at(-1)!) as { event: string; records: number };
  assert.deepEqual([stopped.event, stopped.records], ['stopped', 20]);
  assert.match(serve.stderr(), /"msg":"model swapped","name":"default","version":2/);
});

test('mistakes on the command line exit 2 with the usage; bad input exits 1 with a typed error', async (t) => {
  const dir = await dataDir(t);
  const usage: [string[], RegExp, RegExp][] = [
    [['serve', '--http-port', 'eighty'], /--http-port must be an integer/, /Usage: sluice serve/],
    [['serve', '--ensemble-models', 'a,b'], /need --ensemble max\|mean\|vote/, /Usage: sluice serve/],
    [['serve', '--shadow', 'default'], /--shadow: "default" is not NAME@VERSION/, /Usage: sluice serve/],
    [['serve', '--data-dir', dir, '--dir', dir], /--dir and --data-dir name the same directory/, /Usage: sluice serve/],
    [['models', 'promote'], /unknown subcommand "promote"/, /Usage: sluice models <subcommand>/],
    [['models', 'rollback', 'default', '--to', 'latest', '--data-dir', dir], /--to must be an integer/, /Usage: sluice models rollback/],
    [['models', 'publish', '--data-dir', dir], /missing FILE/, /Usage: sluice models publish/],
  ];
  for (const [args, message, shows] of usage) {
    const r = await runCli(t, args);
    assert.equal(r.code, 2, `sluice ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, shows);
  }
  const bad = join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ name: 'default', version: 1 }));
  const failures: [string[], RegExp][] = [
    [['models', 'publish', join(dir, 'missing.json'), '--data-dir', dir], /^error \[SLUICE_INVALID_ARGUMENT\]: .*missing\.json: cannot read/m],
    [['models', 'publish', bad, '--data-dir', dir], /^error \[SLUICE_MODEL_INVALID\]: model descriptor 'default' v1: \/kind/m],
    [['models', 'rollback', 'default', '--data-dir', dir], /^error \[SLUICE_MODEL_NOT_FOUND\]: no version of model 'default' is in the store/m],
    [['models', 'list', '--data-dir', join(dir, 'nowhere')], /^error \[SLUICE_CONFIG_INVALID\]: no embedded log in/m],
  ];
  for (const [args, message] of failures) {
    const r = await runCli(t, args);
    assert.equal(r.code, 1, `sluice ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
