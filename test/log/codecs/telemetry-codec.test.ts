import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isSluiceError } from '../../../src/errors.ts';
import { type Telemetry, TELEMETRY_MAGIC, telemetryCodec } from '../../../src/log/index.ts';
import { assertCodecError, random, randomNumber, randomString } from './helpers.ts';

const typical: Telemetry = {
  deviceId: 'device-00042',
  ts: 1_700_000_000_123,
  seq: 98_765,
  metrics: { temp: 21.5, humidity: 40.25, pressure: 1013.2, vibration: 0.0123, rpm: 1500, voltage: 229.8, current: 3.2, power: 735.4 },
};

const roundTrip = (value: Telemetry): Telemetry => telemetryCodec.decode(telemetryCodec.encode(value));

test('round-trips records with and without the optional fields', () => {
  const cases: Telemetry[] = [
    typical,
    { deviceId: 'd', ts: 0, metrics: {} },
    { deviceId: 'd', ts: 1, metrics: { a: 1 }, tags: { site: 'north', rack: '' } },
    { deviceId: 'd', ts: 1, seq: 0, metrics: {}, tags: {} },
    { deviceId: 'd', ts: 1, seq: Number.MAX_SAFE_INTEGER, metrics: { x: -1 } },
    { deviceId: 'капсула-温度-😀', ts: -86_400_000, metrics: { 'température °C': 1, '温度': 2, '': 3 }, tags: { 'é': 'ü😀' } },
    { deviceId: 'x'.repeat(300), ts: 8.64e15, metrics: { ['n'.repeat(200)]: 5e-324 } },
  ];
  for (const value of cases) assert.deepEqual(roundTrip(value), value);
});

test('numbers round-trip bit for bit, -0 included', () => {
  const out = roundTrip({ deviceId: 'd', ts: -0, metrics: { negZero: -0, max: Number.MAX_VALUE, tiny: Number.MIN_VALUE, third: 1 / 3 } });
  assert.ok(Object.is(out.ts, -0));
  assert.ok(Object.is(out.metrics.negZero, -0));
  assert.equal(out.metrics.max, Number.MAX_VALUE);
  assert.equal(out.metrics.third, 1 / 3);
  assert.ok(Number.isNaN(roundTrip({ deviceId: 'd', ts: 0, metrics: { nan: Number.NaN } }).metrics.nan));
});

test('round-trips many metrics and records larger than the slab', () => {
  const metrics: Record<string, number> = {};
  for (let i = 0; i < 5000; i++) metrics[`metric_${i}`] = i * 1.5;
  const big = { deviceId: 'big', ts: 1, metrics };
  assert.deepEqual(roundTrip(big), big);
  const longTag = { ...typical, tags: { note: 'n'.repeat(10_000) } }; // decoded in place, not via the scratch copy
  for (let i = 0; i < 3; i++) assert.deepEqual(roundTrip(longTag), longTag);
  for (let i = 0; i < 2000; i++) assert.deepEqual(roundTrip(typical), typical); // crosses slab boundaries
  const a = telemetryCodec.encode(typical);
  const b = telemetryCodec.encode({ ...typical, seq: 1 });
  assert.deepEqual(telemetryCodec.decode(a), typical, 'an earlier result is not overwritten by a later encode');
  assert.equal(telemetryCodec.decode(b).seq, 1);
});

test('names blocks of every size round-trip, from the cache and past it', () => {
  for (const count of [15, 20, 40]) {
    const metrics: Record<string, number> = {};
    for (let i = 0; i < count; i++) metrics[`metric_${String(i).padStart(3, '0')}`] = i; // ~11 bytes a name
    const value = { deviceId: 'd', ts: 1, metrics };
    const bytes = telemetryCodec.encode(value);
    for (let k = 0; k < 3; k++) assert.deepEqual(telemetryCodec.decode(bytes), value);
  }
});

test('a repeated tags section decodes to a fresh, equal object every time', () => {
  const value: Telemetry = { deviceId: 'd', ts: 1, metrics: { a: 1 }, tags: { site: 'north', rack: 'r7' } };
  const bytes = telemetryCodec.encode(value);
  const first = telemetryCodec.decode(bytes);
  const second = telemetryCodec.decode(bytes);
  assert.deepEqual(second, value);
  assert.notEqual(second.tags, first.tags, 'each record gets its own tags object');
  (first.tags as Record<string, string>).site = 'south';
  assert.deepEqual(telemetryCodec.decode(bytes).tags, value.tags, 'changing a decoded record changes no later one');
  const trailing = Uint8Array.of(...bytes, 0);
  for (let i = 0; i < 3; i++) assertCodecError(() => telemetryCodec.decode(trailing), ErrorCode.CODEC_DECODE, /1 unexpected bytes after the record/);
});

test('the names __proto__ and constructor are ordinary keys', () => {
  const metrics = JSON.parse('{"__proto__": 1, "constructor": 2, "toString": 3}') as Record<string, number>;
  const tags = JSON.parse('{"__proto__": "p"}') as Record<string, string>;
  const out = roundTrip({ deviceId: 'd', ts: 1, metrics, tags });
  assert.deepEqual(Object.entries(out.metrics), [['__proto__', 1], ['constructor', 2], ['toString', 3]]);
  assert.equal(Object.getPrototypeOf(out.metrics), Object.prototype);
  assert.deepEqual(Object.entries(out.tags ?? {}), [['__proto__', 'p']]);
  const again = roundTrip({ deviceId: 'd', ts: 2, metrics, tags }); // the tags section, from the cache
  assert.deepEqual(Object.entries(again.tags ?? {}), [['__proto__', 'p']]);
  assert.equal(Object.getPrototypeOf(again.tags), Object.prototype);
});

test('undefined optional fields are treated as absent', () => {
  const out = roundTrip({ deviceId: 'd', ts: 1, metrics: {}, seq: undefined, tags: undefined } as unknown as Telemetry);
  assert.deepEqual(out, { deviceId: 'd', ts: 1, metrics: {} });
});

test('random records round-trip (seeded property test)', () => {
  const rnd = random(20_240_601);
  for (let i = 0; i < 500; i++) {
    const metrics: Record<string, number> = {};
    const count = Math.floor(rnd() * 12);
    for (let j = 0; j < count; j++) metrics[randomString(rnd, 20)] = randomNumber(rnd);
    const value: Record<string, unknown> = { deviceId: randomString(rnd, 40, 1), ts: Math.floor((rnd() - 0.3) * 4e12), metrics };
    if (rnd() < 0.5) value.seq = Math.floor(rnd() * 2 ** (rnd() * 53));
    if (rnd() < 0.3) value.tags = { [randomString(rnd, 10)]: randomString(rnd, 200) };
    const bytes = telemetryCodec.encode(value as unknown as Telemetry);
    assert.deepEqual(telemetryCodec.decode(bytes), value, `case ${i}`);
    assert.deepEqual(telemetryCodec.encode(telemetryCodec.decode(bytes)), bytes, `case ${i}: re-encoding is stable`);
  }
});

test('encode rejects values the format cannot hold, naming the path', () => {
  const bad = (value: unknown): Telemetry => value as Telemetry;
  const cases: [unknown, RegExp][] = [
    [null, /^telemetry codec: cannot encode: expected a telemetry record object, got null$/],
    [[1], /got an array/],
    [{ ts: 1, metrics: {} }, /deviceId: must be a string, got undefined/],
    [{ deviceId: 'd', ts: '1', metrics: {} }, /ts: must be a number, got "1"/],
    [{ deviceId: 'd', ts: 1, seq: -1, metrics: {} }, /seq: must be a non-negative safe integer, got -1/],
    [{ deviceId: 'd', ts: 1, seq: 1.5, metrics: {} }, /seq: must be a non-negative safe integer, got 1.5/],
    [{ deviceId: 'd', ts: 1, seq: 2 ** 53, metrics: {} }, /seq: must be a non-negative safe integer/],
    [{ deviceId: 'd', ts: 1 }, /metrics: must be an object, got undefined/],
    [{ deviceId: 'd', ts: 1, metrics: { temp: '20' } }, /metrics\.temp: must be a number, got "20"/],
    [{ deviceId: 'd', ts: 1, metrics: { 'a b': null } }, /metrics\["a b"\]: must be a number, got null/],
    [{ deviceId: 'd', ts: 1, metrics: {}, tags: 'x' }, /tags: must be an object, got "x"/],
    [{ deviceId: 'd', ts: 1, metrics: {}, tags: { site: 1 } }, /tags\.site: must be a string, got 1/],
    [{ deviceId: 'a\uDC00', ts: 1, metrics: {} }, /deviceId: is not valid Unicode/],
    [{ deviceId: 'd', ts: 1, metrics: { '\uD800': 1 } }, /metrics\["\\ud800"\]: name is not valid Unicode/],
    [{ deviceId: 'd', ts: 1, metrics: {}, tags: { t: '\uD800' } }, /tags\.t: is not valid Unicode/],
  ];
  for (const [value, message] of cases) assertCodecError(() => telemetryCodec.encode(bad(value)), ErrorCode.CODEC_ENCODE, message);
  assert.deepEqual(roundTrip(typical), typical, 'a failed encode leaves the codec usable');
});

test('truncation at every byte position gives CODEC_DECODE, never a value', () => {
  const records: Telemetry[] = [typical, { deviceId: '温度-😀', ts: 5, seq: 300, metrics: { 'é': 1 }, tags: { k: 'v', w: '' } }];
  for (const record of records) {
    const bytes = telemetryCodec.encode(record);
    for (let n = 0; n < bytes.length; n++) {
      assert.throws(() => telemetryCodec.decode(bytes.subarray(0, n)), (error: unknown) => {
        assert.ok(isSluiceError(error, ErrorCode.CODEC_DECODE), `length ${n}: ${String(error)}`);
        assert.match(error.message, /^telemetry codec: cannot decode: .* at byte \d+$/);
        assert.ok((error.details.offset as number) <= n, `length ${n}: offset ${String(error.details.offset)} in bounds`);
        return true;
      });
    }
  }
});

test('corrupt input is rejected with the reason and the offset', () => {
  const bytes = telemetryCodec.encode({ deviceId: 'dev', ts: 1, seq: 5, metrics: { t: 1 } });
  // layout: 0 magic, 1 version, 2 flags, 3..10 ts, 11 len(3), 12..14 "dev", 15 seq, 16 count,
  // 17..24 value, 25 names block length (2), 26 len(1), 27 "t"
  const patch = (offset: number, ...values: number[]): Uint8Array => {
    const copy = Uint8Array.from(bytes);
    copy.set(values, offset);
    return copy;
  };
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(), /truncated: magic byte missing at byte 0$/],
    [patch(0, 0x7b), /bad magic byte 0x7b \(expected 0x54\): not a telemetry record at byte 0$/],
    [patch(1, 2), /unsupported format version 2 \(this build reads 1\) at byte 1$/],
    [patch(2, 0x05), /unknown flag bits in 0x05 at byte 2$/],
    [patch(2, 0x03), /truncated: tag count \(varint\) missing at byte 28$/],
    [patch(2, 0x00), /truncated: 5 metrics need at least 45 bytes, 12 left at byte 15$/],
    [patch(11, 0x7f), /truncated: deviceId needs 127 bytes, 16 left at byte 11$/],
    [patch(12, 0xff), /deviceId is not valid UTF-8 at byte 12$/],
    [patch(15, 0x85, 0x00), /seq \(varint\) is not in canonical form at byte 15$/],
    [patch(16, 0x40), /truncated: 64 metrics need at least 576 bytes, 11 left at byte 16$/],
    [patch(25, 3), /truncated: metric names need 3 bytes, 2 left at byte 25$/],
    [patch(25, 1), /truncated: metric name needs 1 bytes, 0 left at byte 26$/],
    [patch(25, 0), /truncated: metric name length \(varint\) missing at byte 26$/],
    [Uint8Array.of(...bytes.subarray(0, 25), 3, 1, 0x74, 0), /metric names take 2 bytes, their block 3 at byte 28$/],
    [patch(27, 0xc3), /metric name is not valid UTF-8 at byte 27$/],
    [Uint8Array.of(...bytes, 0), /1 unexpected bytes after the record at byte 28$/],
  ];
  // The same record as a view into a larger buffer (a record of a batch) is read in place: the
  // same errors at the same offsets, and nothing read past its end.
  const inBatch = (input: Uint8Array): Uint8Array => {
    const batch = new Uint8Array(input.length + 4096).fill(0x55);
    batch.set(input, 100);
    return batch.subarray(100, 100 + input.length);
  };
  for (const [input, message] of cases) {
    assertCodecError(() => telemetryCodec.decode(input), ErrorCode.CODEC_DECODE, message);
    assertCodecError(() => telemetryCodec.decode(inBatch(input)), ErrorCode.CODEC_DECODE, message);
  }
  const seqAt = patch(15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
  assertCodecError(() => telemetryCodec.decode(seqAt), ErrorCode.CODEC_DECODE, /seq \(varint\) is longer than 8 bytes at byte 15$/);
  const huge = Uint8Array.of(...bytes.subarray(0, 15), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, ...bytes.subarray(16));
  assertCodecError(() => telemetryCodec.decode(huge), ErrorCode.CODEC_DECODE, /seq \(varint\) exceeds 2\^53 - 1 at byte 15$/);
  assertCodecError(() => telemetryCodec.decode('x' as never), ErrorCode.CODEC_DECODE, /expected a Uint8Array/);
});

test('duplicate names are rejected', () => {
  const dup = telemetryCodec.encode({ deviceId: 'd', ts: 1, metrics: { a: 1, b: 2 } });
  const copy = Uint8Array.from(dup);
  copy[copy.length - 1] = 0x61; // the last name, "b", becomes "a"
  assertCodecError(() => telemetryCodec.decode(copy), ErrorCode.CODEC_DECODE, /duplicate metric name "a" at byte 33$/);
  const tags = Uint8Array.from(telemetryCodec.encode({ deviceId: 'd', ts: 1, metrics: {}, tags: { a: 'x', b: 'y' } }));
  tags[tags.lastIndexOf(0x62)] = 0x61;
  assertCodecError(() => telemetryCodec.decode(tags), ErrorCode.CODEC_DECODE, /duplicate tag name "a"/);
});

test('random corruption never yields garbage: either an error or a faithful re-encoding', () => {
  const rnd = random(7);
  const bytes = telemetryCodec.encode({ ...typical, tags: { site: 'north' } });
  for (let i = 0; i < 3000; i++) {
    const copy = Uint8Array.from(bytes);
    copy[Math.floor(rnd() * copy.length)] = Math.floor(rnd() * 256);
    let decoded: Telemetry;
    try {
      decoded = telemetryCodec.decode(copy);
    } catch (error) {
      assert.ok(isSluiceError(error, ErrorCode.CODEC_DECODE), String(error));
      continue;
    }
    assert.deepEqual(telemetryCodec.decode(telemetryCodec.encode(decoded)), decoded);
  }
});

test('the magic byte is the first byte', () => {
  assert.equal(telemetryCodec.encode(typical)[0], TELEMETRY_MAGIC);
  assert.ok(telemetryCodec.encode(typical).length < new TextEncoder().encode(JSON.stringify(typical)).length);
});

test('only own metrics are encoded: inherited enumerable properties are not metrics', () => {
  const metrics = Object.assign(Object.create({ inherited: 9 }) as Record<string, number>, { a: 1, b: 2 });
  assert.deepEqual(roundTrip({ deviceId: 'd', ts: 1, metrics }).metrics, { a: 1, b: 2 });
  for (let i = 0; i < 3; i++) assert.deepEqual(roundTrip({ deviceId: 'd', ts: 1, metrics: { a: 1, b: 2 } }).metrics, { a: 1, b: 2 });
  assert.deepEqual(roundTrip({ deviceId: 'd', ts: 1, metrics }).metrics, { a: 1, b: 2 }, 'after the names block was cached');
});
