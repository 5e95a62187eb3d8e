import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StringCache } from '../../../src/log/codecs/binary.ts';

const utf8 = new TextEncoder();

/** `strings` laid out one after another in one buffer, at an offset, with where each starts. */
function packed(strings: readonly string[]): { buf: Uint8Array; at: number[]; lengths: number[] } {
  const parts = strings.map((s) => utf8.encode(s));
  const buf = new Uint8Array(7 + parts.reduce((n, p) => n + p.length, 0));
  const at: number[] = [];
  let o = 7;
  for (const p of parts) {
    at.push(o);
    buf.set(p, o);
    o += p.length;
  }
  return { buf, at, lengths: parts.map((p) => p.length) };
}

test('StringCache gives the right string for every key, also when far more keys than slots share its sets', () => {
  // One set of four slots: every string competes for it. Same lengths, prefixes, non-ASCII.
  const strings = ['device-00001', 'device-00002', 'device-0000', 'device-00001x', 'température', '温度', '', 'device-00003', 'device-00004', 'device-00005'];
  const { buf, at, lengths } = packed(strings);
  for (const slots of [4, 16, 1024]) {
    const cache = new StringCache(slots, 32);
    // A round-robin over more keys than ways, then a hot few, then at random.
    const order = [...strings.keys(), ...strings.keys(), 0, 1, 0, 1, 2, 0, ...Array.from({ length: 200 }, (_, i) => (i * 7919) % strings.length)];
    for (const i of order) assert.equal(cache.find(buf, at[i]!, lengths[i]!), strings[i], `slots ${slots}, string ${i}`);
  }
});

test('StringCache answers undefined for invalid UTF-8 every time, and never caches it as a string', () => {
  const cache = new StringCache(4, 16);
  const bad = new Uint8Array([0x61, 0xff, 0x62]);
  const good = new Uint8Array([0x61, 0x78, 0x62]);
  for (let i = 0; i < 3; i++) {
    assert.equal(cache.find(bad, 0, 3), undefined);
    assert.equal(cache.find(good, 0, 3), 'axb');
  }
});

test('StringCache takes only a power of two of at least four slots', () => {
  for (const slots of [0, 2, 6, 1000]) assert.throws(() => new StringCache(slots, 16), /slots must be a power of two ≥ 4, got/);
});
