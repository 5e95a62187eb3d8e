/**
 * Reading a range of telemetry (reader-scenarios.ts) on the embedded log, and the read's manners:
 * it lets the event loop turn while it reads (the embedded backend answers polls without I/O, so a
 * read that never yielded would hold up every timer and socket of the process until it ended).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTelemetryRange } from '../../src/training/reader.ts';
import { embeddedBackend } from '../stream/backends.ts';
import { fleetTelemetry, produceTelemetry } from './fleet.ts';
import { readerScenarios } from './reader-scenarios.ts';

readerScenarios(embeddedBackend);

test('embedded: the event loop turns while a range is read', async (t) => {
  const log = await embeddedBackend.open(t);
  await produceTelemetry(log, 'telemetry', fleetTelemetry({ classes: { pump: ['a', 'b', 'c', 'd'] }, records: 1_000, start: 0, stepMs: 1_000 }));
  let reading = true;
  let turnedWhileReading = false;
  setImmediate(() => (turnedWhileReading = reading));
  const read = await readTelemetryRange(log, {
    topic: 'telemetry',
    range: { by: 'offset' },
    classTag: 'class',
    sampling: { maxRecords: 100_000, maxRecordsPerSeries: 100_000, maxSeries: 10 },
    pollTimeoutMs: 100,
    stallTimeoutMs: 10_000,
  });
  reading = false;
  assert.equal(read.records, 4_000);
  assert.ok(turnedWhileReading, 'a callback queued before the read ran before it finished');
});
