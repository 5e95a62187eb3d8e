/**
 * The `sluice` command as a user runs it: a real child process on a temporary embedded log
 * directory, checked by its output and exit code.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeKafka, randomTopic, tempDir, TEST_BROKER } from '../helpers.ts';
import { runCli } from './run-cli.ts';

async function dataDir(t: import('node:test').TestContext): Promise<string> {
  const dir = await tempDir('sluice-cli-');
  t.after(() => dir.remove());
  return dir.path;
}

/** A stack trace line, which a user should never see. */
const STACK = /^\s+at .+\(.+:\d+:\d+\)$/m;

test('--help, help and no arguments list the commands', async (t) => {
  for (const args of [['--help'], ['help'], []]) {
    const r = await runCli(t, args);
    assert.equal(r.code, 0, r.stderr);
    for (const word of ['start', 'topics', 'bench', '--backend', '--dir', '--brokers']) {
      assert.match(r.stdout, new RegExp(`^\\s+${word}\\b`, 'm'), `sluice ${args.join(' ')} should list ${word}`);
    }
  }
});

test('<command> --help shows the flags of that command', async (t) => {
  const start = await runCli(t, ['start', '--help']);
  assert.equal(start.code, 0);
  assert.match(start.stdout, /--rate N/);
  assert.match(start.stdout, /--duration SECONDS/);
  const tail = await runCli(t, ['topics', 'tail', '--help']);
  assert.equal(tail.code, 0);
  assert.match(tail.stdout, /--from earliest\|latest/);
  assert.match(tail.stdout, /--max N/);
  const create = await runCli(t, ['help', 'topics']);
  assert.match(create.stdout, /create NAME/);
});

test('an unknown flag or command exits 2, names it and shows the usage', async (t) => {
  const cases: [string[], string, RegExp][] = [
    [['--nope'], '--nope', /Usage: sluice <command>/],
    [['start', '--frobnicate'], '--frobnicate', /Usage: sluice start/],
    [['topics', 'list', '--color'], '--color', /Usage: sluice topics list/],
    [['topics', 'tail', 'x', '--from', 'middle'], '--from', /Usage: sluice topics tail/],
    [['launch'], 'launch', /Usage: sluice <command>/],
  ];
  for (const [args, named, usage] of cases) {
    const r = await runCli(t, args);
    assert.equal(r.code, 2, `sluice ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^error: .*${named}`, 'm'));
    assert.match(r.stderr, usage);
    assert.doesNotMatch(r.stderr, STACK);
  }
});

test('topics create, list, describe and delete round trip', async (t) => {
  const dir = await dataDir(t);
  const created = await runCli(t, ['topics', 'create', 'orders', '--partitions', '3', '--retention-ms', '60000', '--dir', dir]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /created topic orders: 3 partitions/);

  // Log flags may also come before the command.
  const listed = await runCli(t, ['--dir', dir, 'topics', 'list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^orders\s+3\s+0\s+delete\s+1 min 00 s$/m);

  const described = await runCli(t, ['topics', 'describe', 'orders', '--dir', dir]);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /partitions\s+3/);
  for (const p of [0, 1, 2]) assert.match(described.stdout, new RegExp(`^\\s+${p}\\s+0\\s+0\\s+0$`, 'm'));

  const again = await runCli(t, ['topics', 'create', 'orders', '--dir', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error \[SLUICE_LOG_TOPIC_EXISTS\]: .*orders/m);

  const deleted = await runCli(t, ['topics', 'delete', 'orders', '--dir', dir]);
  assert.equal(deleted.code, 0, deleted.stderr);
  const empty = await runCli(t, ['topics', 'list', '--dir', dir]);
  assert.match(empty.stdout, /^no topics in the embedded log in /);

  const gone = await runCli(t, ['topics', 'describe', 'orders', '--dir', dir]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error \[SLUICE_LOG_UNKNOWN_TOPIC\]: /m);
  assert.doesNotMatch(gone.stderr, STACK);
});

test('a SluiceError is printed with its code and exit status 1', async (t) => {
  const dir = await dataDir(t);
  const r = await runCli(t, ['topics', 'create', 'no spaces', '--dir', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error \[SLUICE_LOG_INVALID_TOPIC_NAME\]: /m);
  assert.doesNotMatch(r.stderr, STACK);
});

test('reading commands refuse a --dir that does not exist instead of creating an empty log there', async (t) => {
  const missing = join(await dataDir(t), 'typo');
  const r = await runCli(t, ['topics', 'list', '--dir', missing]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error \[SLUICE_CONFIG_INVALID\]: no embedded log in .*typo/m);
  assert.equal(existsSync(missing), false);
});

test('conflicting connection flags are usage errors', async (t) => {
  const r = await runCli(t, ['topics', 'list', '--dir', 'x', '--brokers', '127.0.0.1:9092']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dir .* --brokers .* cannot be used together/);
  const bad = await runCli(t, ['topics', 'list', '--brokers', 'nohost']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--brokers: "nohost" is not host:port/);
});

test('topics commands work against Kafka', async (t) => {
  const kafka = await probeKafka();
  if (!kafka.available) {
    if (kafka.mustFail) assert.fail(kafka.message);
    t.skip(kafka.message);
    return;
  }
  const topic = randomTopic('cli');
  const created = await runCli(t, ['topics', 'create', topic, '--partitions', '2', '--backend', 'kafka']);
  assert.equal(created.code, 0, created.stderr);
  t.after(() => runCli(t, ['topics', 'delete', topic, '--backend', 'kafka']));
  const described = await runCli(t, ['topics', 'describe', topic, '--brokers', `${TEST_BROKER.host}:${TEST_BROKER.port}`]);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /partitions\s+2/);
  const listed = await runCli(t, ['topics', 'list', '--backend', 'kafka']);
  assert.match(listed.stdout, new RegExp(`^${topic}\\s+2\\s`, 'm'));
});
