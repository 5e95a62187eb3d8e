/**
 * `sluice train` through the real CLI on an embedded log directory: a run publishes and prints
 * progress and a JSON report; a bad candidate is rejected with the reason; mistakes in flags exit
 * 2 with the usage, bad or empty ranges exit 1 with a typed error; a scheduled run stops cleanly on
 * SIGINT.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { openLog } from '../../src/log/index.ts';
import type { TrainingReport } from '../../src/training/index.ts';
import { tempDir } from '../helpers.ts';
import { fleetTelemetry, produceTelemetry } from '../training/fleet.ts';
import { runCli, startCli } from './run-cli.ts';

const START = 1_767_225_600_000;

async function dataDir(t: TestContext): Promise<string> {
  const dir = await tempDir('sluice-train-cli-');
  t.after(() => dir.remove());
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  await produceTelemetry(log, 'telemetry', fleetTelemetry({ classes: { pump: ['p1', 'p2'], fan: ['f1'] }, records: 400, start: START, stepMs: 60_000 }));
  await log.close();
  return dir.path;
}

const lastJson = (stdout: string): TrainingReport => JSON.parse(stdout.trim().split('\n').at(-1)!) as TrainingReport;

test('sluice train publishes per class, shows progress, and a worse candidate is rejected with the reason', async (t) => {
  const dir = await dataDir(t);
  const first = await runCli(t, ['train', '--data-dir', dir, '--detector', 'robust-zscore', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const report = lastJson(first.stdout);
  assert.deepEqual(report.models.map((m) => [m.name, m.status, m.version]), [['class.fan', 'published', 1], ['class.pump', 'published', 1]]);
  assert.match(first.stderr, /read 1,200 records from 2 partitions/);
  assert.match(first.stderr, /\[2\/2\] class\.pump: fitting on 800 records of 2 devices/);
  assert.match(first.stderr, /class\.pump: published v1 \(F1 \d\.\d{3}/);

  const blind = await runCli(t, ['train', '--dir', dir, '--detector', 'robust-zscore', '--hyper', 'minObservations=1000000', '--per', 'class']);
  assert.equal(blind.code, 0, blind.stderr);
  assert.match(blind.stdout, /class\.pump\s+rejected\s+-\s+v1/);
  assert.match(blind.stdout, /class\.pump: F1 0\.000 is below the live model's/);
  assert.match(blind.stdout, /0 models published/);
});

test('sluice train: flag mistakes exit 2 with the usage; bad and empty ranges exit 1 with a typed error', async (t) => {
  const dir = await dataDir(t);
  const usage = [
    [['--every', '10m', '--every-records', '5'], /give --every or --every-records, not both/],
    [['--from', 'last tuesday'], /--from: "last tuesday" is not an ISO 8601 date-time/],
    [['--per', 'site'], /--per must be one of class, device, fleet/],
    [['--from', '2026-01-01', '--from-offset', '3'], /give one kind of range/],
    [['--every', 'often'], /--every: "often" is not a duration/],
    [['--dir', dir], /--dir and --data-dir name the same directory/],
  ] as const;
  for (const [args, message] of usage) {
    const r = await runCli(t, ['train', '--data-dir', dir, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /Usage: sluice train/);
  }
  const backwards = await runCli(t, ['train', '--data-dir', dir, '--from', '2026-02-01', '--to', '2026-01-01']);
  assert.equal(backwards.code, 1);
  assert.match(backwards.stderr, /error \[SLUICE_TRAINING_INVALID_RANGE\]: \/training\/range: range from 2026-02-01T00:00:00\.000Z is after to 2026-01-01T00:00:00\.000Z/);
  const empty = await runCli(t, ['train', '--data-dir', dir, '--from', '2027-01-01']);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /error \[SLUICE_TRAINING_EMPTY_RANGE\]: no telemetry in topic 'telemetry' for 2027-01-01T00:00:00\.000Z → end .*nothing published/);
});

test('sluice train --every-records trains at start, waits, and stops cleanly on SIGINT', async (t) => {
  const dir = await dataDir(t);
  const cli = startCli(t, ['train', '--data-dir', dir, '--detector', 'robust-zscore', '--every-records', '1000000', '--json']);
  await cli.waitFor(/"published":2/, 30_000);
  cli.child.kill('SIGINT');
  assert.equal(await cli.exit(), 0, cli.stderr());
  assert.match(cli.stderr(), /every 1000000 records/);
  assert.match(cli.stderr(), /stopped/);
});
