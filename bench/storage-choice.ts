/**
 * The measurement behind docs/embedded-storage.md: durable appends of record-batch blobs to SQLite
 * (WAL) versus a plain file with fdatasync, sequential reads back from SQLite, and the latency of
 * one small write + fdatasync (the floor under any durable acknowledgement on this disk).
 * Usage: node bench/storage-choice.ts [--records 2000000] [--batch 1000] [--synchronous FULL|NORMAL] [--json]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    batch: { type: 'string', default: '1000' },
    synchronous: { type: 'string', default: 'FULL' },
    json: { type: 'boolean', default: false },
  },
});
const total = Number(values.records);
const batch = Number(values.batch);
if (!['FULL', 'NORMAL'].includes(values.synchronous)) throw new Error('--synchronous must be FULL or NORMAL');
const dir = mkdtempSync(join(tmpdir(), 'sluice-storage-'));
const blob = Buffer.alloc(batch * 170, 7);
const perSecond = (ms: number): number => Math.round((total / ms) * 1000);

const db = new DatabaseSync(join(dir, 'bench.db'));
db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${values.synchronous};
  CREATE TABLE b (topic INTEGER, partition INTEGER, base INTEGER, last INTEGER, data BLOB);
  CREATE UNIQUE INDEX b_last ON b (topic, partition, last);`);
const insert = db.prepare('INSERT INTO b VALUES (?, ?, ?, ?, ?)');
let start = performance.now();
for (let offset = 0; offset < total; offset += batch) {
  db.exec('BEGIN IMMEDIATE');
  insert.run(1, 0, offset, offset + batch - 1, blob);
  db.exec('COMMIT');
}
const sqliteAppend = perSecond(performance.now() - start);
const select = db.prepare('SELECT data FROM b WHERE topic = 1 AND partition = 0 AND last >= ? ORDER BY last');
start = performance.now();
let bytes = 0;
for (const row of select.iterate(0) as IterableIterator<{ data: Uint8Array }>) bytes += row.data.byteLength;
const sqliteRead = perSecond(performance.now() - start);
db.close();

const fd = openSync(join(dir, 'segment.log'), 'w');
start = performance.now();
for (let offset = 0; offset < total; offset += batch) {
  writeSync(fd, blob);
  fdatasyncSync(fd);
}
const fileAppend = perSecond(performance.now() - start);
closeSync(fd);

// The floor under any durable acknowledgement: how long one small write + fdatasync takes.
const small = Buffer.alloc(16 * 1024, 7);
const syncFd = openSync(join(dir, 'fsync.log'), 'w');
const syncMs: number[] = [];
for (let i = 0; i < 2000; i++) {
  const t = performance.now();
  writeSync(syncFd, small);
  fdatasyncSync(syncFd);
  syncMs.push(performance.now() - t);
}
closeSync(syncFd);
syncMs.sort((a, b) => a - b);
const at = (p: number): number => Number(syncMs[Math.min(syncMs.length - 1, Math.floor(p * syncMs.length))]!.toFixed(3));
const fsync = { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1) };
rmSync(dir, { recursive: true, force: true });

const result = { records: total, batch, synchronous: values.synchronous, sqliteAppend, sqliteRead, fileAppend, fsyncMs: fsync, bytesRead: bytes };
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`SQLite WAL synchronous=${values.synchronous}, batch ${batch}: append ${sqliteAppend.toLocaleString('en')} records/s, read ${sqliteRead.toLocaleString('en')} records/s`);
  console.log(`plain file + fdatasync, batch ${batch}: append ${fileAppend.toLocaleString('en')} records/s`);
  console.log(`16 KiB write + fdatasync latency (ms): p50 ${fsync.p50}, p99 ${fsync.p99}, p99.9 ${fsync.p999}, max ${fsync.max}`);
}
