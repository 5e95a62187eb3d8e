/**
 * The range of a training run: parsing the command line's bounds and durations, and the checks
 * that turn a backwards or malformed range into TRAINING_INVALID_RANGE.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { checkRange, describeRange, parseDuration, parseOffsetBound, parseTimeBound, resolveRange } from '../../src/training/range.ts';
import { expectCode } from '../helpers.ts';

test('time bounds: ISO 8601 dates and date-times (UTC unless zoned) and ms since the epoch', async () => {
  assert.equal(parseTimeBound('2026-01-02', '--from'), Date.UTC(2026, 0, 2));
  assert.equal(parseTimeBound('2026-01-02T03:04:05', '--from'), Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(parseTimeBound('2026-01-02T03:04:05Z', '--from'), Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(parseTimeBound('2026-01-02T03:04:05+02:00', '--from'), Date.UTC(2026, 0, 2, 1, 4, 5));
  assert.equal(parseTimeBound(' 1700000000000 ', '--to'), 1_700_000_000_000);
  for (const bad of ['yesterday', '2026-13-45', '', '-5', '1.5']) await expectCode(() => parseTimeBound(bad, '--to'), ErrorCode.INVALID_ARGUMENT, '--to', JSON.stringify(bad));
});

test('durations and offset bounds parse, and say what is wrong with bad ones', async () => {
  assert.deepEqual(['250ms', '30s', '10m', '1.5h', '7d', '42'].map((d) => parseDuration(d, '--every')), [250, 30_000, 600_000, 5_400_000, 604_800_000, 42]);
  for (const bad of ['0s', 'ten minutes', '-1m', '5w']) await expectCode(() => parseDuration(bad, '--every'), ErrorCode.INVALID_ARGUMENT, '--every');
  assert.equal(parseOffsetBound('100', '--from-offset'), 100);
  assert.deepEqual(parseOffsetBound('0=10, 3=7', '--from-offset'), { 0: 10, 3: 7 });
  for (const bad of ['x', '0=1,0=2', '1=', '-3']) await expectCode(() => parseOffsetBound(bad, '--to-offset'), ErrorCode.INVALID_ARGUMENT, '--to-offset');
});

test('a range whose from is after its to, or with bad bounds, is TRAINING_INVALID_RANGE naming them', async () => {
  await expectCode(() => checkRange({ by: 'time', from: 2_000, to: 1_000 }), ErrorCode.TRAINING_INVALID_RANGE, '1970-01-01T00:00:02.000Z is after to 1970-01-01T00:00:01.000Z');
  await expectCode(() => checkRange({ by: 'offset', from: 9, to: 3 }), ErrorCode.TRAINING_INVALID_RANGE, 'from offset 9 is after to offset 3');
  await expectCode(() => checkRange({ by: 'offset', from: { 1: 9 }, to: 3 }), ErrorCode.TRAINING_INVALID_RANGE, 'partition 1');
  await expectCode(() => checkRange({ by: 'time', from: -1 }), ErrorCode.TRAINING_INVALID_RANGE, 'from');
  await expectCode(() => checkRange({ by: 'last', ms: 0 }), ErrorCode.TRAINING_INVALID_RANGE, 'ms');
  await expectCode(() => checkRange({ by: 'sometime' } as never), ErrorCode.TRAINING_INVALID_RANGE, 'sometime');
  const equal = { by: 'time', from: 5, to: 5 } as const;
  assert.equal(checkRange(equal), equal, 'an empty range is valid; reading it finds nothing');
});

test('a sliding range resolves against the run start; fixed ranges stay as they are', () => {
  assert.deepEqual(resolveRange({ by: 'last', ms: 60_000 }, 1_000_000), { by: 'time', from: 940_000 });
  const fixed = { by: 'offset', from: { 0: 4 } } as const;
  assert.equal(resolveRange(fixed, 1_000_000), fixed);
  assert.equal(describeRange({ by: 'offset', from: { 0: 4, 2: 1 } }), 'offsets p0:4,p2:1 → end');
});

test('a sliding range is described in its largest whole unit', () => {
  assert.equal(describeRange({ by: 'last', ms: 7 * 86_400_000 }), 'the last 7d');
  assert.equal(describeRange({ by: 'last', ms: 90 * 60_000 }), 'the last 90m');
  assert.equal(describeRange({ by: 'last', ms: 1_500 }), 'the last 1500ms');
});
