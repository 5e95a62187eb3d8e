import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../../src/errors.ts';
import { bytesCodec, stringCodec } from '../../../src/log/index.ts';
import { assertCodecError } from './helpers.ts';

test('bytesCodec is the identity and rejects non-bytes', () => {
  const bytes = new Uint8Array([0, 1, 255]);
  assert.equal(bytesCodec.encode(bytes), bytes);
  assert.equal(bytesCodec.decode(bytes), bytes);
  assert.equal(bytesCodec.name, 'bytes');
  assertCodecError(() => bytesCodec.encode('x' as never), ErrorCode.CODEC_ENCODE, /^bytes codec: cannot encode: expected a Uint8Array, got "x"$/);
  assertCodecError(() => bytesCodec.decode([1] as never), ErrorCode.CODEC_DECODE, /expected a Uint8Array, got an array/);
});

test('stringCodec round-trips unicode text', () => {
  for (const s of ['', 'hello', 'température 温度 😀', '\u0000\uFEFFbom', 'a'.repeat(10_000)]) {
    assert.equal(stringCodec.decode(stringCodec.encode(s)), s);
  }
  assert.deepEqual([...stringCodec.encode('é')], [0xc3, 0xa9]);
});

test('stringCodec rejects lone surrogates and invalid UTF-8 with the offset', () => {
  assertCodecError(() => stringCodec.encode('a\uD800b'), ErrorCode.CODEC_ENCODE, /string codec: cannot encode: string has a lone surrogate/);
  assertCodecError(() => stringCodec.encode(42 as never), ErrorCode.CODEC_ENCODE, /expected a string, got 42/);
  assertCodecError(() => stringCodec.decode(new Uint8Array([0x61, 0x62, 0xff])), ErrorCode.CODEC_DECODE, /^string codec: cannot decode: invalid UTF-8 at byte 2$/);
  assertCodecError(() => stringCodec.decode(new Uint8Array([0x61, 0xe6, 0xb8])), ErrorCode.CODEC_DECODE, /invalid UTF-8 at byte 1$/);
  assertCodecError(() => stringCodec.decode(new Uint8Array([0xc0, 0x80])), ErrorCode.CODEC_DECODE, /invalid UTF-8 at byte 0$/); // overlong
  assertCodecError(() => stringCodec.decode(new Uint8Array([0xed, 0xa0, 0x80])), ErrorCode.CODEC_DECODE, /invalid UTF-8 at byte 0$/); // surrogate
  // Again (short strings go through a cache, which must not remember a failure as a string) and long.
  assertCodecError(() => stringCodec.decode(new Uint8Array([0x61, 0x62, 0xff])), ErrorCode.CODEC_DECODE, /invalid UTF-8 at byte 2$/);
  const long = new Uint8Array(40).fill(0x61);
  long[35] = 0xff;
  assertCodecError(() => stringCodec.decode(long), ErrorCode.CODEC_DECODE, /invalid UTF-8 at byte 35$/);
  assertCodecError(() => stringCodec.decode('x' as never), ErrorCode.CODEC_DECODE, /expected a Uint8Array/);
});
