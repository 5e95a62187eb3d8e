/**
 * The changelog record cache of the stores (state/changelog-buffer.ts): between two commits only
 * the latest write of each key is kept, flushed in the order keys were first written, with a
 * running byte count (what bounds an exactly-once transaction).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangelogBuffer } from '../../src/stream/state/changelog-buffer.ts';
import { bytes, text } from '../helpers.ts';

function recorder() {
  const written: string[] = [];
  const buffer = new ChangelogBuffer<string>((key, value) => written.push(`${text(key)}=${value === null ? '(tombstone)' : text(value)}`));
  return { written, buffer };
}

test('keeps the latest write per key until flush, in first-write order, deletes included', () => {
  const { written, buffer } = recorder();
  buffer.write('a', bytes('a'), bytes('1'));
  buffer.write('b', bytes('b'), bytes('1'));
  buffer.write('a', bytes('a'), bytes('2'));
  buffer.write('b', bytes('b'), null);
  buffer.write('c', bytes('c'), bytes('9'));
  assert.deepEqual(written, [], 'nothing reaches the changelog before the commit');
  assert.equal(buffer.size, 3);
  buffer.flush();
  assert.deepEqual(written, ['a=2', 'b=(tombstone)', 'c=9']);
  assert.equal(buffer.size, 0);
  buffer.flush();
  assert.equal(written.length, 3, 'a second flush has nothing to send');
  buffer.write('a', bytes('a'), bytes('3'));
  buffer.flush();
  assert.deepEqual(written.slice(3), ['a=3'], 'a key written after a flush is sent at the next one');
});

test('counts the bytes of the pending writes (replaced writes no longer count)', () => {
  const { buffer } = recorder();
  buffer.write('k', bytes('key'), bytes('12345'));
  assert.equal(buffer.bytes, 8);
  buffer.write('k', bytes('key'), bytes('1'));
  assert.equal(buffer.bytes, 4);
  buffer.write('j', bytes('jj'), null);
  assert.equal(buffer.bytes, 6);
  buffer.flush();
  assert.equal(buffer.bytes, 0);
});

test('a value written later is encoded once, at the flush, from the state then; a plain write or a delete replaces it', () => {
  const { written, buffer } = recorder();
  const state = new Map([
    ['a', 'a1'],
    ['b', 'b1'],
  ]);
  let encodes = 0;
  const encode = (id: string): Uint8Array => {
    encodes++;
    return bytes(state.get(id)!);
  };
  buffer.writeLater('a', bytes('a'), encode);
  state.set('a', 'a2');
  buffer.writeLater('a', bytes('a'), encode);
  state.set('a', 'a3');
  buffer.writeLater('a', bytes('a'), encode);
  buffer.writeLater('b', bytes('b'), encode);
  buffer.write('b', bytes('b'), null);
  buffer.writeLater('c', bytes('c'), encode);
  buffer.write('c', bytes('c'), bytes('c-now'));
  assert.equal(encodes, 0, 'nothing is encoded before the flush');
  // Until a value was encoded later, each counts 64 bytes beside its key.
  assert.equal(buffer.bytes, 1 + 64 + 1 + 1 + 5);
  buffer.flush();
  assert.deepEqual(written, ['a=a3', 'b=(tombstone)', 'c=c-now']);
  assert.equal(encodes, 1, 'one encode for three writes of a');
  // Then at the size of the last value encoded later.
  buffer.writeLater('a', bytes('a'), encode);
  assert.equal(buffer.bytes, 1 + 2);
});
