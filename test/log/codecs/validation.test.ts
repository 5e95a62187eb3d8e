import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, SluiceError, isSluiceError } from '../../../src/errors.ts';
import {
  type Telemetry,
  jsonCodec,
  stringCodec,
  telemetryCodec,
  telemetryValidator,
  validateTelemetry,
  validatedTelemetryCodec,
  validationError,
  withValidation,
} from '../../../src/log/index.ts';
import { assertCodecError } from './helpers.ts';

const ok: Telemetry = { deviceId: 'dev-1', ts: 1_700_000_000_000, seq: 3, metrics: { temp: 20.5 }, tags: { site: 'n' } };
const invalid = (value: unknown, message: RegExp, options = {}): void =>
  assertCodecError(() => validateTelemetry(value, options), ErrorCode.CODEC_VALIDATION, message);

test('validateTelemetry accepts records that meet the contract', () => {
  validateTelemetry(ok);
  validateTelemetry({ deviceId: 'd', ts: 0, metrics: {} });
  validateTelemetry({ ...ok, deviceId: 'x'.repeat(256) });
  validateTelemetry({ ...ok, ts: 1000 }, { maxSkewMs: 500, now: 1400 });
  validateTelemetry({ ...ok, ts: 1000 }, { maxSkewMs: 500, now: () => 600 });
});

/** Bad records and the error each gets (with the options they are checked under). */
const BAD: readonly (readonly [unknown, RegExp, object?])[] = [
  [null, /^telemetry record must be an object, got null$/],
  [{ ...ok, extra: 1 }, /^extra is not a telemetry field/],
  [{ ...ok, deviceId: undefined }, /^deviceId must be a string, got undefined$/],
  [{ ...ok, deviceId: '' }, /^deviceId must not be empty$/],
  [{ ...ok, deviceId: 'x'.repeat(257) }, /^deviceId is 257 characters long, at most 256 allowed$/],
  [{ ...ok, deviceId: '\uD800' }, /^deviceId is not valid Unicode/],
  [{ ...ok, ts: 1.5 }, /^ts must be a finite integer \(ms since epoch\), got 1.5$/],
  [{ ...ok, ts: Infinity }, /^ts must be a finite integer .* got Infinity$/],
  [{ ...ok, ts: '1' }, /^ts must be a finite integer .* got "1"$/],
  [{ ...ok, seq: -1 }, /^seq must be a non-negative integer, got -1$/],
  [{ ...ok, metrics: [] }, /^metrics must be an object, got an array$/],
  [{ ...ok, metrics: { temp: Number.NaN } }, /^metrics\.temp must be a finite number, got NaN$/],
  [{ ...ok, metrics: { 'a.b': -Infinity } }, /^metrics\["a\.b"\] must be a finite number, got -Infinity$/],
  [{ ...ok, metrics: { temp: '1' } }, /^metrics\.temp must be a finite number, got "1"$/],
  [{ ...ok, metrics: { '': 1 } }, /^metrics\[""\] name must not be empty$/],
  [{ ...ok, metrics: { ['m'.repeat(129)]: 1 } }, /name is 129 characters long, at most 128 allowed$/],
  [{ ...ok, metrics: { a: 1, b: 2, c: 3 } }, /^metrics has 3 entries, at most 2 allowed$/, { maxMetrics: 2 }],
  [{ ...ok, tags: 'x' }, /^tags must be an object, got "x"$/],
  [{ ...ok, tags: { site: 1 } }, /^tags\.site must be a string, got 1$/],
  [{ ...ok, tags: { a: '', b: '' } }, /^tags has 2 entries, at most 1 allowed$/, { maxTags: 1 }],
  [{ ...ok, tags: { a: 'xyz' } }, /^tags\.a is 3 characters long, at most 2 allowed$/, { maxTagValueLength: 2 }],
];

test('validateTelemetry names the path and the reason', () => {
  for (const [value, message, options] of BAD) invalid(value, message, options);
});

test('a validator that has passed good records rejects bad ones with the same errors', () => {
  const validators = new Map<object | undefined, ReturnType<typeof telemetryValidator>>();
  for (const [value, message, options] of BAD) {
    let validate = validators.get(options);
    if (validate === undefined) validators.set(options, (validate = telemetryValidator(options)));
    for (const good of [ok, { ...ok, metrics: { temp: 1, 'a.b': 2 }, tags: { a: 'x' } }]) validate(good);
    assertCodecError(() => validate(value as Telemetry), ErrorCode.CODEC_VALIDATION, message);
  }
});

test('validation sees own enumerable fields only, as Object.keys does', () => {
  const inherited = Object.assign(Object.create({ extra: 1, metrics: { temp: Number.NaN } }) as object, ok);
  validateTelemetry(inherited);
  const metrics = Object.assign(Object.create({ '': 1, bad: Number.NaN }) as object, { temp: 1 });
  validateTelemetry({ ...ok, metrics });
  const validate = telemetryValidator({ maxMetrics: 1, maxTags: 1 });
  validate({ ...ok, metrics, tags: Object.assign(Object.create({ x: 1 }) as object, { site: 'n' }) });
  validateTelemetry(Object.defineProperty({ ...ok }, 'hidden', { value: 1, enumerable: false }));
});

test('validateTelemetry checks event-time skew against the supplied clock', () => {
  invalid({ ...ok, ts: 10_000 }, /^ts is 9000 ms ahead of now \(max skew 500 ms\)$/, { maxSkewMs: 500, now: 1000 });
  invalid({ ...ok, ts: 0 }, /^ts is 1000 ms behind now \(max skew 500 ms\)$/, { maxSkewMs: 500, now: () => 1000 });
});

test('validateTelemetry rejects nonsensical options with INVALID_ARGUMENT', () => {
  for (const [options, message] of [
    [{ maxSkewMs: 10 }, /now is required with maxSkewMs/],
    [{ maxSkewMs: -1, now: 0 }, /maxSkewMs must be a number ≥ 0, got -1/],
    [{ maxMetrics: 0 }, /maxMetrics must be an integer ≥ 1, got 0/],
    [{ now: Number.NaN }, /now must be a finite number or a function/],
  ] as const) {
    assertCodecError(() => validateTelemetry(ok, options), ErrorCode.INVALID_ARGUMENT, message);
  }
});

test('withValidation checks before encoding and after decoding', () => {
  const positive = withValidation(jsonCodec<number>(), (n) => {
    if (n <= 0) throw validationError('', `must be positive, got ${n}`);
  });
  assert.equal(positive.name, 'json');
  assert.equal(positive.decode(positive.encode(3)), 3);
  assertCodecError(() => positive.encode(-1), ErrorCode.CODEC_VALIDATION, /^json codec: invalid value on encode: must be positive, got -1$/);
  assertCodecError(() => positive.decode(new TextEncoder().encode('-2')), ErrorCode.CODEC_VALIDATION, /^json codec: invalid value on decode: must be positive, got -2$/);
  assertCodecError(() => positive.decode(new TextEncoder().encode('{')), ErrorCode.CODEC_DECODE, /invalid JSON/);
});

test('withValidation wraps any error of the validator and keeps the path', () => {
  const plain = withValidation(stringCodec, (s) => {
    if (s.length > 3) throw new Error('too long');
  });
  assert.throws(() => plain.encode('abcd'), (error: unknown) => {
    assert.ok(isSluiceError(error, ErrorCode.CODEC_VALIDATION));
    assert.equal(error.message, 'string codec: invalid value on encode: too long');
    assert.equal((error.cause as Error).message, 'too long');
    assert.deepEqual(error.details, { codec: 'string', when: 'encode' });
    return true;
  });
  const codec = validatedTelemetryCodec({ maxSkewMs: 1000, now: () => ok.ts });
  assert.deepEqual(codec.decode(codec.encode(ok)), ok);
  assert.throws(() => codec.encode({ ...ok, metrics: { temp: Number.NaN } }), (error: unknown) => {
    assert.ok(error instanceof SluiceError && error.code === ErrorCode.CODEC_VALIDATION);
    assert.equal(error.message, 'telemetry codec: invalid value on encode: metrics.temp must be a finite number, got NaN');
    assert.deepEqual(error.details, { path: 'metrics.temp', codec: 'telemetry', when: 'encode' });
    return true;
  });
  const stale = telemetryCodec.encode({ ...ok, ts: ok.ts - 5000 });
  assertCodecError(() => codec.decode(stale), ErrorCode.CODEC_VALIDATION, /^telemetry codec: invalid value on decode: ts is 5000 ms behind now/);
});
