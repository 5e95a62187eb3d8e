/** Tests of Kafka's murmur2 and the default partitioner (src/log/partitioner.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultPartitioner, murmur2, partitionForKey } from '../../src/log/partitioner.ts';
import { bytes } from '../helpers.ts';

/** Kafka's own test vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java). */
const KAFKA_VECTORS: readonly (readonly [string, number])[] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

describe('murmur2', () => {
  for (const [key, hash] of KAFKA_VECTORS) {
    it(`hashes ${JSON.stringify(key)} to ${hash} as Kafka does`, () => {
      assert.equal(murmur2(bytes(key)), hash);
    });
  }

  it('returns a signed 32-bit integer for every tail length', () => {
    for (let n = 0; n < 40; n++) {
      const h = murmur2(Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff));
      assert.ok(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31, `length ${n}: ${h}`);
    }
  });

  it('reads only the bytes of a view, not its whole buffer', () => {
    const backing = bytes('xxfoobaryy');
    assert.equal(murmur2(backing.subarray(2, 8)), -790332482);
  });

  it('is deterministic and depends on every byte', () => {
    const a = bytes('device-00042');
    assert.equal(murmur2(a), murmur2(bytes('device-00042')));
    assert.notEqual(murmur2(a), murmur2(bytes('device-00043')));
  });
});

describe('partitionForKey', () => {
  it('is (murmur2 & 0x7fffffff) % partitions for the Kafka vectors', () => {
    for (const [key, hash] of KAFKA_VECTORS) {
      for (const n of [1, 2, 3, 5, 12, 100]) {
        assert.equal(partitionForKey(bytes(key), n), (hash & 0x7fffffff) % n, `${key} over ${n}`);
      }
    }
    // literal values, independent of the formula above
    assert.deepEqual(
      KAFKA_VECTORS.map(([k]) => partitionForKey(bytes(k), 12)),
      [0, 6, 8, 11, 5, 3],
    );
  });

  it('stays in [0, partitions) for many keys and partition counts', () => {
    for (const n of [1, 2, 7, 16, 1000]) {
      for (let i = 0; i < 2_000; i++) {
        const p = partitionForKey(bytes(`key-${i}`), n);
        assert.ok(Number.isInteger(p) && p >= 0 && p < n, `key-${i} over ${n}: ${p}`);
      }
    }
  });

  it('spreads keys evenly', () => {
    const n = 10;
    const keys = 20_000;
    const counts = Array.from({ length: n }, () => 0);
    for (let i = 0; i < keys; i++) counts[partitionForKey(bytes(`device-${i}`), n)]!++;
    for (const [p, c] of counts.entries()) {
      assert.ok(Math.abs(c - keys / n) < (keys / n) * 0.1, `partition ${p} got ${c} of ${keys}`);
    }
  });

  it('handles the empty key', () => {
    const p = partitionForKey(new Uint8Array(0), 7);
    assert.ok(p >= 0 && p < 7);
  });
});

describe('DefaultPartitioner', () => {
  it('puts keyed records on partitionForKey', () => {
    const partitioner = new DefaultPartitioner();
    for (let i = 0; i < 500; i++) {
      const key = bytes(`k${i}`);
      assert.equal(partitioner.partition(key, 9), partitionForKey(key, 9));
    }
  });

  it('spreads unkeyed records (null or undefined key) over every partition', () => {
    const partitioner = new DefaultPartitioner();
    const counts = Array.from({ length: 4 }, () => 0);
    for (let i = 0; i < 400; i++) {
      const p = partitioner.partition(i % 2 === 0 ? null : undefined, 4);
      assert.ok(p >= 0 && p < 4);
      counts[p]!++;
    }
    assert.deepEqual(counts, [100, 100, 100, 100]);
  });

  it('stays in range when the partition count changes between calls', () => {
    const partitioner = new DefaultPartitioner();
    for (let i = 0; i < 100; i++) {
      const n = (i % 5) + 1;
      const p = partitioner.partition(null, n);
      assert.ok(p >= 0 && p < n);
    }
  });
});
