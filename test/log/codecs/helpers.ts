/** Shared helpers of the codec tests: error matchers and a small seeded random generator. */
import assert from 'node:assert/strict';
import { type ErrorCode, isSluiceError } from '../../../src/errors.ts';

/** Asserts that `fn` throws a SluiceError with `code` whose message matches `message`. */
export function assertCodecError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isSluiceError(error, code), `expected ${code}, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

/** A deterministic pseudo-random generator (mulberry32) so that failures can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '9', '_', '-', ' ', 'é', 'ß', '温', '度', '😀', '\u0000', '.'];

/** A random well-formed string of 0..maxLength characters drawn from a mixed alphabet. */
export function randomString(rnd: () => number, maxLength: number, minLength = 0): string {
  const n = minLength + Math.floor(rnd() * (maxLength - minLength + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}

/** A random double: small integers, fractions, huge and tiny magnitudes, ±0. */
export function randomNumber(rnd: () => number): number {
  const k = rnd();
  if (k < 0.1) return rnd() < 0.5 ? 0 : -0;
  if (k < 0.4) return Math.floor(rnd() * 2000) - 1000;
  if (k < 0.7) return (rnd() - 0.5) * 1000;
  if (k < 0.85) return (rnd() - 0.5) * Number.MAX_VALUE;
  return (rnd() - 0.5) * Number.MIN_VALUE * 1e6;
}
