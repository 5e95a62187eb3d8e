import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../../src/errors.ts';
import { jsonCodec } from '../../../src/log/index.ts';
import { assertCodecError } from './helpers.ts';

const json = jsonCodec<unknown>();

test('jsonCodec round-trips JSON values', () => {
  const values: unknown[] = [null, true, 0, -1.5, 'x', '温度 😀', [], {}, [1, 'a', null, { b: [2] }], { a: { b: { c: 'lone \uD800 surrogate' } } }];
  for (const value of values) assert.deepEqual(json.decode(json.encode(value)), value);
  assert.equal(new TextDecoder().decode(json.encode({ a: 1 })), '{"a":1}');
});

test('jsonCodec trusts toJSON and shares non-cyclic references', () => {
  const date = new Date(0);
  assert.deepEqual(json.decode(json.encode({ date })), { date: '1970-01-01T00:00:00.000Z' });
  const shared = { x: 1 };
  assert.deepEqual(json.decode(json.encode([shared, shared])), [{ x: 1 }, { x: 1 }]);
  assert.deepEqual(json.decode(json.encode(Object.assign(Object.create(null) as object, { a: 1 }))), { a: 1 });
});

test('jsonCodec rejects values JSON cannot represent, naming the path', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cases: [unknown, RegExp][] = [
    [undefined, /^json codec: cannot encode: undefined is not representable in JSON$/],
    [Number.NaN, /NaN is not representable/],
    [{ a: [1, Infinity] }, /a\[1\]: Infinity is not representable/],
    [{ n: 10n }, /n: 10n is not representable/],
    [{ f: () => 1 }, /f: a function is not representable/],
    [{ s: Symbol('s') }, /s: a symbol is not representable/],
    [{ u: undefined }, /u: undefined is not representable/],
    [[undefined], /\[0\]: undefined/],
    [{ m: new Map() }, /m: an instance of Map is not representable/],
    [new Uint8Array(2), /an instance of Uint8Array is not representable/],
    [{ deep: { cyclic } }, /deep\.cyclic\.self: cyclic reference/],
  ];
  for (const [value, message] of cases) assertCodecError(() => json.encode(value), ErrorCode.CODEC_ENCODE, message);
});

test('jsonCodec rejects invalid UTF-8 and invalid JSON', () => {
  const named = jsonCodec({ name: 'settings' });
  assertCodecError(() => named.decode(new Uint8Array([0x7b, 0xff])), ErrorCode.CODEC_DECODE, /^settings codec: cannot decode: invalid UTF-8 at byte 1$/);
  assertCodecError(() => named.decode(new TextEncoder().encode('{"a":')), ErrorCode.CODEC_DECODE, /^settings codec: cannot decode: invalid JSON: /);
  assertCodecError(() => named.decode(new Uint8Array()), ErrorCode.CODEC_DECODE, /invalid JSON/);
  assertCodecError(() => named.decode(null as never), ErrorCode.CODEC_DECODE, /expected a Uint8Array, got null/);
});
