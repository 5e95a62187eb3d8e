/**
 * The embedded consumer-group coordinator on a real database: the one-query stable check a poll
 * makes, and heartbeats that do not wait for another connection's write lock.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { DATABASE_FILE, openDatabase } from '../../../src/log/embedded/database.ts';
import { GroupCoordinator } from '../../../src/log/embedded/group-coordinator.ts';
import { tempDir } from '../../helpers.ts';

async function open(t: TestContext) {
  const dir = await tempDir('group-coordinator');
  const db = openDatabase(dir.path, 5_000);
  let now = 1_000;
  const groups = new GroupCoordinator(db, () => now);
  t.after(async () => {
    db.close();
    await dir.remove();
  });
  return { dir: dir.path, db, groups, advance: (ms: number) => (now += ms) };
}

test('stableAt: true only while the group is stable at that generation; any join moves it off for good', async (t) => {
  const { groups } = await open(t);
  groups.join('g', 'a', ['t'], 10_000);
  const first = groups.view('g', 'a');
  assert.equal(first.state, 'stable', 'a lone member completes the rebalance at once');
  assert.equal(groups.stableAt('g', first.generation), true);
  assert.equal(groups.stableAt('g', first.generation + 1), false);
  assert.equal(groups.stableAt('other', 0), false, 'no such group');

  groups.join('g', 'b', ['t'], 10_000);
  assert.equal(groups.view('g', 'a').state, 'rebalancing');
  assert.equal(groups.stableAt('g', first.generation), false, 'a rebalance is pending');
  groups.acknowledge('g', 'a', groups.view('g', 'a').targetGeneration);
  const second = groups.view('g', 'a');
  assert.equal(second.state, 'stable');
  assert.ok(second.generation > first.generation);
  assert.equal(groups.stableAt('g', first.generation), false, 'stable again, but at a later generation');
  assert.equal(groups.stableAt('g', second.generation), true);
});

test('tryHeartbeat gives up at once while another connection holds the write lock; heartbeat then waits for it', async (t) => {
  const { dir, db, groups, advance } = await open(t);
  groups.join('g', 'a', ['t'], 10_000);
  const other = new DatabaseSync(join(dir, DATABASE_FILE), { timeout: 5_000 });
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const started = performance.now();
  assert.equal(groups.tryHeartbeat('g', 'a'), null, 'locked: nothing done');
  assert.ok(performance.now() - started < 1_000, 'without waiting for the busy timeout');
  other.exec('COMMIT');
  advance(500);
  assert.equal(groups.tryHeartbeat('g', 'a'), true, 'the lock is free: the beat gets through');
  const beat = db.prepare("SELECT heartbeat_at FROM group_members WHERE group_id = 'g' AND member_id = 'a'").get() as { heartbeat_at: number };
  assert.equal(beat.heartbeat_at, 1_500);
  assert.equal(groups.tryHeartbeat('g', 'nobody'), false, 'a member not in the group');
  const timeout = db.prepare('PRAGMA busy_timeout').get() as { timeout: number };
  assert.equal(timeout.timeout, 5_000, 'the connection keeps its busy timeout');
});
