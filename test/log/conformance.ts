/**
 * The log conformance suite: one set of node:test cases that every backend of the log API
 * (src/log/types.ts) must pass unchanged. A backend's test file calls {@link runConformance} with a
 * function that opens a fresh {@link Log}; every case opens its own log, creates its own topics with
 * random names and closes every client it made, so cases are independent of each other and of
 * what else lives on the backend (a shared Kafka broker).
 *
 * Waiting is always polling with a deadline (`eventually`, `pollUntil`, `poll({ timeoutMs })`),
 * never a bare sleep; deadlines are generous because Kafka group rebalances, log cleaning and
 * retention take seconds.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, isSluiceError } from '../../src/errors.ts';
import { partitionForKey } from '../../src/log/partitioner.ts';
import type {
  Consumer,
  ConsumerOptions,
  CreateTopicOptions,
  Log,
  LogRecord,
  Producer,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
  TopicPartition,
} from '../../src/log/types.ts';
import { bytes, eventually, expectCode, pollUntil, randomGroup, randomTopic, randomTransactionalId, text } from '../helpers.ts';

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** Skip every case with this reason (e.g. no broker to test against). */
  readonly skip?: string;
}

/** Default maxRecordBytes of a producer (types.ts): 1 MiB. */
const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

/** Per-case time limits: plain cases, group rebalances, log cleaning. */
const CASE_MS = 60_000;
const GROUP_CASE_MS = 300_000;
const CLEANER_CASE_MS = 150_000;
/** How long a consumer may take to see records that are already in the log. */
const SEE_MS = 30_000;
/** How long a group may take to settle after a member joins or leaves. */
const SETTLE_MS = 60_000;
/** How long retention or compaction may take to reclaim closed segments. */
const CLEANER_MS = 60_000;

/**
 * Registers the conformance cases for one backend. `open` must return a new, independent log each
 * time it is called (for the embedded backend: in a fresh directory).
 */
export function runConformance(name: string, open: () => Promise<Log>, options: ConformanceOptions = {}): void {
  describe(`log conformance: ${name}`, options.skip === undefined ? {} : { skip: options.skip }, () => {
    const setup = (t: TestContext): Promise<Env> => openEnv(t, open);
    adminCases(setup);
    produceConsumeCases(setup);
    groupCases(setup);
    seekCases(setup);
    transactionCases(setup);
    cleanupCases(setup);
    limitCases(setup);
    badInputCases(setup);
  });
}

// ---------------------------------------------------------------------------------------------
// Per-case environment

type Setup = (t: TestContext) => Promise<Env>;

/** One case's log plus factories that register every client and topic for cleanup. */
interface Env {
  readonly log: Log;
  /** Creates a topic with a random name (deleted after the case). */
  topic(options?: CreateTopicOptions): Promise<string>;
  producer(options?: ProducerOptions): Producer;
  consumer(options?: ConsumerOptions): Consumer;
}

async function openEnv(t: TestContext, open: () => Promise<Log>): Promise<Env> {
  const log = await open();
  const clients: { close(): Promise<void> }[] = [];
  const topics: string[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const client of clients.reverse()) await closeQuietly(client, errors);
    for (const topic of topics) {
      try {
        await log.admin.deleteTopic(topic);
      } catch {
        // best effort: the case may have deleted it, or closed the log
      }
    }
    await closeQuietly(log, errors);
    if (errors.length > 0) throw errors[0];
  });
  return {
    log,
    async topic(options) {
      const name = randomTopic();
      await log.admin.createTopic(name, options);
      topics.push(name);
      return name;
    },
    producer(options) {
      const p = log.producer(options);
      clients.push(p);
      return p;
    },
    consumer(options) {
      const c = log.consumer(options);
      clients.push(c);
      return c;
    },
  };
}

/** Closes `client`; a second close (LOG_CLOSED) is fine, any other failure is collected. */
async function closeQuietly(client: { close(): Promise<void> }, errors: unknown[]): Promise<void> {
  try {
    await client.close();
  } catch (error) {
    if (!isSluiceError(error, ErrorCode.LOG_CLOSED)) errors.push(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const tpKey = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

async function partitionsOf(log: Log, topic: string): Promise<TopicPartition[]> {
  const d = await log.admin.describeTopic(topic);
  return d.partitions.map((p) => ({ topic, partition: p.partition }));
}

async function endOffsets(log: Log, topic: string): Promise<number[]> {
  const d = await log.admin.describeTopic(topic);
  return [...d.partitions].sort((a, b) => a.partition - b.partition).map((p) => p.endOffset);
}

/**
 * Reads every record of `topics` from the start up to the end offsets seen when called, with a
 * consumer of its own (no group), and returns them in the order polled.
 */
async function readAll(log: Log, topics: readonly string[], options: ConsumerOptions = {}): Promise<LogRecord[]> {
  const consumer = log.consumer(options);
  try {
    const tps: TopicPartition[] = [];
    const ends = new Map<string, number>();
    for (const topic of topics) {
      const d = await log.admin.describeTopic(topic);
      for (const p of d.partitions) {
        tps.push({ topic, partition: p.partition });
        ends.set(tpKey({ topic, partition: p.partition }), p.endOffset);
      }
    }
    await consumer.assign(tps);
    for (const tp of tps) await consumer.seek(tp, 'earliest');
    const all: LogRecord[] = [];
    const deadline = Date.now() + SEE_MS;
    for (;;) {
      let behind: TopicPartition | undefined;
      for (const tp of tps) {
        if ((await consumer.position(tp)) < (ends.get(tpKey(tp)) ?? 0)) {
          behind = tp;
          break;
        }
      }
      if (behind === undefined) return all;
      if (Date.now() > deadline) {
        assert.fail(`readAll: ${tpKey(behind)} still behind its end offset after ${SEE_MS} ms (${all.length} records read)`);
      }
      for (const r of await consumer.poll({ timeoutMs: 500 })) all.push(r);
    }
  } finally {
    await consumer.close();
  }
}

/** Asserts that `records` come in strictly increasing offset order within each partition. */
function assertOffsetOrder(records: readonly LogRecord[]): void {
  const last = new Map<string, number>();
  for (const r of records) {
    const k = tpKey(r);
    const prev = last.get(k);
    if (prev !== undefined) assert.ok(r.offset > prev, `${k}: offset ${r.offset} after ${prev}`);
    last.set(k, r.offset);
  }
}

function headersText(h: Readonly<Record<string, Uint8Array>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(h ?? {}).sort()) out[name] = text(h![name]!);
  return out;
}

function values(records: readonly LogRecord[]): string[] {
  return records.map((r) => text(r.value));
}

function sortTps(tps: readonly TopicPartition[]): TopicPartition[] {
  return tps.map((tp) => ({ topic: tp.topic, partition: tp.partition })).sort((a, b) => (tpKey(a) < tpKey(b) ? -1 : tpKey(a) > tpKey(b) ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Admin

function adminCases(setup: Setup): void {
  describe('admin', () => {
    it('creates a topic with the default config and lists it, sorted', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const a = await env.topic();
      const b = await env.topic();
      const d = await env.log.admin.describeTopic(a);
      assert.equal(d.name, a);
      assert.equal(d.config.partitions, 1);
      assert.equal(d.config.cleanupPolicy, 'delete');
      assert.equal(d.config.retentionMs, null);
      assert.equal(d.config.retentionBytes, null);
      assert.deepEqual(d.partitions, [{ partition: 0, startOffset: 0, endOffset: 0 }]);
      const list = await env.log.admin.listTopics();
      assert.ok(list.includes(a) && list.includes(b), 'listTopics includes both new topics');
      assert.deepEqual(list, [...list].sort(), 'listTopics is sorted');
    });

    it('creates a topic with explicit settings and describes them back', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({
        partitions: 3,
        retentionMs: 3_600_000,
        retentionBytes: 10_000_000,
        cleanupPolicy: 'compact',
        segmentMs: 60_000,
      });
      const d = await env.log.admin.describeTopic(topic);
      assert.deepEqual(d.config, { partitions: 3, retentionMs: 3_600_000, retentionBytes: 10_000_000, cleanupPolicy: 'compact', segmentMs: 60_000 });
      assert.deepEqual(
        [...d.partitions].sort((x, y) => x.partition - y.partition),
        [0, 1, 2].map((partition) => ({ partition, startOffset: 0, endOffset: 0 })),
      );
    });

    it('deletes a topic: it leaves the list and describe fails with LOG_UNKNOWN_TOPIC', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ partitions: 2 });
      await env.producer().send([{ topic, value: bytes('x') }]);
      await env.log.admin.deleteTopic(topic);
      await eventually(async () => !(await env.log.admin.listTopics()).includes(topic), { timeoutMs: SEE_MS, message: 'deleted topic leaves listTopics' });
      await eventually(() => expectCode(env.log.admin.describeTopic(topic), ErrorCode.LOG_UNKNOWN_TOPIC, topic), {
        timeoutMs: SEE_MS,
        message: 'describe of a deleted topic fails',
      });
    });

    it('createTopic twice fails with LOG_TOPIC_EXISTS naming the topic', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ partitions: 2 });
      await expectCode(env.log.admin.createTopic(topic), ErrorCode.LOG_TOPIC_EXISTS, topic);
      await expectCode(env.log.admin.createTopic(topic, { partitions: 5 }), ErrorCode.LOG_TOPIC_EXISTS, topic);
      assert.equal((await env.log.admin.describeTopic(topic)).config.partitions, 2, 'the existing topic is unchanged');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Producing and consuming

function produceConsumeCases(setup: Setup): void {
  describe('produce and consume', () => {
    it('keeps per-partition order; metadata match what consumers read (keys, headers, timestamps)', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const partitions = 4;
      const topic = await env.topic({ partitions });
      const producer = env.producer();
      const base = Date.now() - 60_000;
      const sent: ProducerRecord[] = [];
      for (let i = 0; i < 2_000; i++) {
        sent.push({
          topic,
          partition: i % partitions,
          key: i % 3 === 0 ? null : bytes(`k${i}`),
          value: bytes(`v${i}`),
          ...(i % 5 === 0 ? { headers: { h: bytes(`h${i}`), 'trace-id': bytes(`t${i}`) } } : {}),
          timestamp: base + i,
        });
      }
      const metas: RecordMetadata[] = [];
      for (let b = 0; b < sent.length; b += 250) metas.push(...(await producer.send(sent.slice(b, b + 250))));
      assert.equal(metas.length, sent.length);

      const lastOffset = new Map<number, number>();
      metas.forEach((m, i) => {
        assert.equal(m.topic, topic);
        assert.equal(m.partition, i % partitions, `record ${i} lands on its explicit partition`);
        const prev = lastOffset.get(m.partition);
        if (prev !== undefined) assert.ok(m.offset > prev, `partition ${m.partition}: offsets strictly increase in send order`);
        else assert.ok(m.offset >= 0);
        lastOffset.set(m.partition, m.offset);
      });

      const ends = await endOffsets(env.log, topic);
      for (let p = 0; p < partitions; p++) assert.ok(ends[p]! > (lastOffset.get(p) ?? -1), `end offset of ${p} is past its last record`);

      const read = await readAll(env.log, [topic]);
      assert.equal(read.length, sent.length, 'every record is read once');
      assertOffsetOrder(read);
      const byOffset = new Map(read.map((r) => [`${r.partition}@${r.offset}`, r]));
      metas.forEach((m, i) => {
        const s = sent[i]!;
        const r = byOffset.get(`${m.partition}@${m.offset}`);
        assert.ok(r, `record ${i} is found where its metadata says`);
        assert.equal(r.topic, topic);
        assert.equal(text(r.value), `v${i}`);
        assert.equal(text(r.key), s.key == null ? null : text(s.key));
        assert.equal(r.timestamp, s.timestamp);
        assert.deepEqual(headersText(r.headers), headersText(s.headers));
      });
      // values in send order per partition
      for (let p = 0; p < partitions; p++) {
        const got = values(read.filter((r) => r.partition === p).sort((a, b) => a.offset - b.offset));
        const want = sent.flatMap((_, i) => (i % partitions === p ? [`v${i}`] : []));
        assert.deepEqual(got, want, `partition ${p} holds its values in send order`);
      }
    });

    it('stamps records without a timestamp with the time of the send', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const before = Date.now();
      await env.producer().send([{ topic, value: bytes('now') }]);
      const after = Date.now();
      const [r] = await readAll(env.log, [topic]);
      assert.ok(r);
      assert.ok(r.timestamp >= before - 1_000 && r.timestamp <= after + 1_000, `timestamp ${r.timestamp} within [${before}, ${after}]`);
      assert.equal(r.key, null);
      assert.deepEqual(headersText(r.headers), {});
    });

    it("puts keyed records on partitionForKey(key, n), Kafka's murmur2 partition", { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const partitions = 12;
      const topic = await env.topic({ partitions });
      // Partitions computed from Kafka's published murmur2 vectors: (hash & 0x7fffffff) % 12.
      const vectors: readonly (readonly [string, number])[] = [
        ['21', 0],
        ['foobar', 6],
        ['a-little-bit-long-string', 8],
        ['a-little-bit-longer-string', 11],
        ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', 5],
        ['abc', 3],
      ];
      const keys = [...vectors.map(([k]) => k), ...Array.from({ length: 300 }, (_, i) => `device-${i}`)];
      const producer = env.producer();
      const metas = await producer.send(keys.map((k) => ({ topic, key: bytes(k), value: bytes(k) })));
      metas.forEach((m, i) => assert.equal(m.partition, partitionForKey(bytes(keys[i]!), partitions), `key ${keys[i]}`));
      vectors.forEach(([k, p], i) => assert.equal(metas[i]!.partition, p, `Kafka vector ${k}`));
      assert.ok(new Set(metas.map((m) => m.partition)).size === partitions, 'many keys spread over every partition');
      // the same key again lands on the same partition
      const again = await producer.send(keys.slice(0, 20).map((k) => ({ topic, key: bytes(k), value: bytes(`${k}#2`) })));
      again.forEach((m, i) => assert.equal(m.partition, metas[i]!.partition));
      // an explicit partition overrides the key
      const [explicit] = await producer.send([{ topic, key: bytes('21'), partition: 7, value: bytes('explicit') }]);
      assert.equal(explicit!.partition, 7);

      const read = await readAll(env.log, [topic]);
      assert.equal(read.length, keys.length + 21);
      for (const r of read) {
        const v = text(r.value);
        if (v === 'explicit') assert.equal(r.partition, 7);
        else assert.equal(r.partition, partitionForKey(r.key!, partitions), `consumer sees ${v} on its key's partition`);
      }
    });

    it('round-trips edge values: empty value, empty key (not null), all byte values, empty header', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const metas = await env.producer().send([
        { topic, value: new Uint8Array(0) },
        { topic, key: new Uint8Array(0), value: bytes('empty-key') },
        { topic, key: allBytes, value: allBytes, headers: { empty: new Uint8Array(0), bin: allBytes } },
      ]);
      const read = await readAll(env.log, [topic]);
      assert.deepEqual(read.map((r) => r.offset), metas.map((m) => m.offset));
      const [a, b, c] = read;
      assert.ok(a && b && c);
      assert.equal(a.value.byteLength, 0);
      assert.equal(a.key, null);
      assert.ok(b.key !== null, 'an empty key stays a key, not null');
      assert.equal(b.key.byteLength, 0);
      assert.deepEqual([...c.key!], [...allBytes]);
      assert.deepEqual([...c.value], [...allBytes]);
      assert.deepEqual(Object.keys(c.headers).sort(), ['bin', 'empty']);
      assert.equal(c.headers.empty!.byteLength, 0);
      assert.deepEqual([...c.headers.bin!], [...allBytes]);
    });

    it('poll honours maxRecords and maxPollRecords', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      await env.producer().send(Array.from({ length: 50 }, (_, i) => ({ topic, value: bytes(`v${i}`) })));
      const tp = { topic, partition: 0 };
      const c = env.consumer({ maxPollRecords: 20 });
      await c.assign([tp]);
      const all: LogRecord[] = [];
      await eventually(
        async () => {
          const batch = await c.poll({ maxRecords: 7, timeoutMs: 500 });
          assert.ok(batch.length <= 7, `poll({ maxRecords: 7 }) returned ${batch.length}`);
          all.push(...batch);
          return all.length >= 14;
        },
        { timeoutMs: SEE_MS },
      );
      await eventually(
        async () => {
          const batch = await c.poll({ timeoutMs: 500 });
          assert.ok(batch.length <= 20, `maxPollRecords 20, poll returned ${batch.length}`);
          all.push(...batch);
          return all.length >= 50;
        },
        { timeoutMs: SEE_MS },
      );
      assert.deepEqual(values(all), Array.from({ length: 50 }, (_, i) => `v${i}`), 'no record lost or repeated across small polls');
    });

    it('send of an empty batch resolves to []', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      assert.deepEqual(await env.producer().send([]), []);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Consumer groups, commits, lag

/** A group member whose poll loop runs in the background, tracking what it reads and is told. */
interface Member {
  readonly name: string;
  readonly consumer: Consumer;
  readonly records: LogRecord[];
  /** Partitions as the rebalance listener saw them: + onAssigned, − onRevoked. */
  readonly heard: Map<string, TopicPartition>;
  readonly calls: { assigned: number; revoked: number; revokedNonEmpty: number };
  readonly errors: unknown[];
  stop(): Promise<void>;
}

async function startMember(env: Env, name: string, groupId: string, topic: string): Promise<Member> {
  const consumer = env.consumer({ groupId, heartbeatIntervalMs: 500, sessionTimeoutMs: 10_000 });
  const member: Member = {
    name,
    consumer,
    records: [],
    heard: new Map(),
    calls: { assigned: 0, revoked: 0, revokedNonEmpty: 0 },
    errors: [],
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
  let stopped = false;
  await consumer.subscribe([topic], {
    onAssigned(tps) {
      member.calls.assigned++;
      for (const tp of tps) member.heard.set(tpKey(tp), tp);
    },
    onRevoked(tps) {
      member.calls.revoked++;
      if (tps.length > 0) member.calls.revokedNonEmpty++;
      for (const tp of tps) member.heard.delete(tpKey(tp));
    },
  });
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const r of await consumer.poll({ timeoutMs: 200 })) member.records.push(r);
      } catch (error) {
        member.errors.push(error);
        await delay(50); // back off after a failed poll; the errors fail the case at the end
      }
    }
  })();
  return member;
}

/** Waits until the members' assignments are disjoint, each non-empty, and cover every partition. */
async function settle(members: readonly Member[], topic: string, partitions: number, phase: string): Promise<Map<number, Member>> {
  return eventually(
    () => {
      const owners = new Map<number, Member>();
      for (const m of members) {
        const mine = m.consumer.assignment().filter((tp) => tp.topic === topic);
        assert.ok(mine.length > 0, `${m.name} owns no partition yet`);
        for (const tp of mine) {
          assert.ok(!owners.has(tp.partition), `partition ${tp.partition} owned by ${owners.get(tp.partition)?.name} and ${m.name}`);
          owners.set(tp.partition, m);
        }
        assert.deepEqual(sortTps([...m.heard.values()]), sortTps(m.consumer.assignment()), `${m.name}: listener callbacks agree with assignment()`);
        assert.equal(typeof m.consumer.generation(), 'number', `${m.name} has a generation`);
      }
      assert.equal(owners.size, partitions, `all ${partitions} partitions are owned (${owners.size} are)`);
      return owners;
    },
    { timeoutMs: SETTLE_MS, intervalMs: 200, message: `group settles (${phase})` },
  );
}

/** Produces 3 records per partition tagged `phase` and checks each is read once, by its owner. */
async function checkOwnership(producer: Producer, members: readonly Member[], owners: Map<number, Member>, topic: string, partitions: number, phase: string): Promise<void> {
  const markers: ProducerRecord[] = [];
  for (let p = 0; p < partitions; p++) for (let i = 0; i < 3; i++) markers.push({ topic, partition: p, value: bytes(`${phase}:${p}:${i}`) });
  await producer.send(markers);
  const tagged = (m: Member): LogRecord[] => m.records.filter((r) => text(r.value).startsWith(`${phase}:`));
  await eventually(() => members.reduce((n, m) => n + tagged(m).length, 0) >= markers.length, {
    timeoutMs: SEE_MS,
    message: `${phase}: members read all ${markers.length} new records`,
  });
  const seen = new Map<string, string[]>();
  for (const m of members) {
    for (const r of tagged(m)) {
      const v = text(r.value);
      seen.set(v, [...(seen.get(v) ?? []), m.name]);
      assert.equal(owners.get(r.partition)?.name, m.name, `${phase}: ${v} (partition ${r.partition}) read by its owner`);
    }
  }
  for (const mk of markers) assert.deepEqual(seen.get(text(mk.value)), [owners.get(mk.partition!)!.name], `${phase}: ${text(mk.value)} read exactly once`);
}

function groupCases(setup: Setup): void {
  describe('consumer groups', () => {
    it('a group of 3 joining one by one and leaving rebalances: disjoint full cover, owners read new records, listeners fire', { timeout: GROUP_CASE_MS }, async (t) => {
      const env = await setup(t);
      const partitions = 6;
      const topic = await env.topic({ partitions });
      const group = randomGroup();
      const producer = env.producer();
      const members: Member[] = [];
      t.after(async () => {
        for (const m of members) await m.stop();
      });

      const m1 = await startMember(env, 'm1', group, topic);
      members.push(m1);
      let owners = await settle([m1], topic, partitions, 'm1 alone');
      assert.ok(m1.calls.assigned >= 1, 'm1 onAssigned fired');
      const gen1 = m1.consumer.generation()!;
      await checkOwnership(producer, [m1], owners, topic, partitions, 'p1');

      const m2 = await startMember(env, 'm2', group, topic);
      members.push(m2);
      owners = await settle([m1, m2], topic, partitions, 'm1+m2');
      assert.ok(m1.calls.revokedNonEmpty >= 1, 'm1 onRevoked fired with the partitions it gave up');
      assert.ok(m2.calls.assigned >= 1, 'm2 onAssigned fired');
      assert.ok(m1.consumer.generation()! > gen1, 'the rebalance raised the generation');
      await checkOwnership(producer, [m1, m2], owners, topic, partitions, 'p2');

      const m3 = await startMember(env, 'm3', group, topic);
      members.push(m3);
      owners = await settle([m1, m2, m3], topic, partitions, 'm1+m2+m3');
      await checkOwnership(producer, [m1, m2, m3], owners, topic, partitions, 'p3');

      await m2.stop();
      await m2.consumer.close();
      members.splice(members.indexOf(m2), 1);
      const assignedBefore = m1.calls.assigned + m3.calls.assigned;
      owners = await settle([m1, m3], topic, partitions, 'm2 left');
      assert.ok(m1.calls.assigned + m3.calls.assigned > assignedBefore, "onAssigned fired for m2's partitions");
      await checkOwnership(producer, [m1, m3], owners, topic, partitions, 'p4');

      await m1.stop();
      await m1.consumer.close();
      members.splice(members.indexOf(m1), 1);
      owners = await settle([m3], topic, partitions, 'm1 left');
      await checkOwnership(producer, [m3], owners, topic, partitions, 'p5');

      for (const m of [m1, m2, m3]) assert.deepEqual(m.errors, [], `${m.name}: poll never failed`);
    });

    it('commit and resume: a new member of the group continues from the committed offset', { timeout: GROUP_CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const group = randomGroup();
      const metas = await env.producer().send(Array.from({ length: 20 }, (_, i) => ({ topic, value: bytes(`v${i}`) })));
      const tp = { topic, partition: 0 };

      const a = env.consumer({ groupId: group });
      await a.subscribe([topic]);
      const firstRead = await pollUntil(a, (rs) => rs.length >= 10, SETTLE_MS);
      assert.deepEqual(values(firstRead).slice(0, 10), Array.from({ length: 10 }, (_, i) => `v${i}`));
      const resumeAt = metas[10]!.offset;
      await a.commit([{ ...tp, offset: resumeAt }]);
      assert.deepEqual(await a.committed([tp]), [{ ...tp, offset: resumeAt }]);
      await a.close();

      const b = env.consumer({ groupId: group });
      await b.subscribe([topic]);
      const rest = await pollUntil(b, (rs) => rs.length >= 10, SETTLE_MS);
      assert.equal(rest[0]!.offset, resumeAt, 'b starts at the committed offset');
      assert.deepEqual(values(rest), Array.from({ length: 10 }, (_, i) => `v${i + 10}`));
      assert.deepEqual(await b.committed([tp]), [{ ...tp, offset: resumeAt }]);
      // commit() without arguments commits the current positions
      const end = metas[19]!.offset + 1;
      assert.equal(await b.position(tp), end);
      await b.commit();
      assert.deepEqual(await b.committed([tp]), [{ ...tp, offset: end }]);
    });

    it('an error thrown by onAssigned reaches the caller (subscribe or poll rejects with it) instead of being lost', { timeout: GROUP_CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ partitions: 2 });
      const c = env.consumer({ groupId: randomGroup(), heartbeatIntervalMs: 500, sessionTimeoutMs: 10_000 });
      const failure = new Error('restore failed');
      let calls = 0;
      const run = async (): Promise<void> => {
        await c.subscribe([topic], {
          onAssigned() {
            calls++;
            throw failure;
          },
        });
        const deadline = Date.now() + SETTLE_MS;
        while (Date.now() < deadline) await c.poll({ timeoutMs: 200 });
      };
      await assert.rejects(run(), (error) => error === failure);
      assert.equal(calls, 1, 'onAssigned was called once, and its error ended the caller');
    });

    it('committed() is null for partitions the group never committed', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ partitions: 2 });
      const c = env.consumer({ groupId: randomGroup() });
      assert.deepEqual(await c.committed([{ topic, partition: 0 }, { topic, partition: 1 }]), [
        { topic, partition: 0, offset: null },
        { topic, partition: 1, offset: null },
      ]);
    });

    it('lag() reports position, committed, end offset and lag per assigned partition', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ partitions: 2 });
      const producer = env.producer();
      const m0 = await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic, partition: 0, value: bytes(`a${i}`) })));
      const m1 = await producer.send(Array.from({ length: 4 }, (_, i) => ({ topic, partition: 1, value: bytes(`b${i}`) })));
      const end0 = m0[9]!.offset + 1;
      const end1 = m1[3]!.offset + 1;
      const p0 = { topic, partition: 0 };
      const p1 = { topic, partition: 1 };
      const c = env.consumer({ groupId: randomGroup() });
      await c.assign([p0, p1]);
      assert.equal(c.generation(), null, 'assign() does not join a group');
      await c.seek(p0, 'earliest');
      await c.seek(p1, 'earliest');
      const lag = async (): Promise<unknown[]> => [...(await c.lag())].sort((x, y) => x.partition - y.partition);
      assert.deepEqual(await lag(), [
        { topic, partition: 0, position: m0[0]!.offset, committed: null, endOffset: end0, lag: end0 - m0[0]!.offset },
        { topic, partition: 1, position: m1[0]!.offset, committed: null, endOffset: end1, lag: end1 - m1[0]!.offset },
      ]);
      await c.seek(p0, { offset: m0[6]!.offset });
      await c.commit([{ ...p0, offset: m0[3]!.offset }]);
      assert.deepEqual(await lag(), [
        { topic, partition: 0, position: m0[6]!.offset, committed: m0[3]!.offset, endOffset: end0, lag: end0 - m0[6]!.offset },
        { topic, partition: 1, position: m1[0]!.offset, committed: null, endOffset: end1, lag: end1 - m1[0]!.offset },
      ]);
      await pollUntil(c, (rs) => rs.length >= 8, SEE_MS);
      await c.commit();
      assert.deepEqual(await lag(), [
        { topic, partition: 0, position: end0, committed: end0, endOffset: end0, lag: 0 },
        { topic, partition: 1, position: end1, committed: end1, endOffset: end1, lag: 0 },
      ]);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Seek

function seekCases(setup: Setup): void {
  describe('seek', () => {
    it('seeks to earliest, latest, an offset, and by timestamp', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const base = Math.floor((Date.now() - 600_000) / 1000) * 1000;
      const metas = await env.producer().send(Array.from({ length: 10 }, (_, i) => ({ topic, value: bytes(`v${i}`), timestamp: base + i * 1_000 })));
      const end = metas[9]!.offset + 1;
      const tp = { topic, partition: 0 };
      const c = env.consumer();
      await c.assign([tp]);
      const first = async (): Promise<LogRecord> => (await pollUntil(c, (rs) => rs.length >= 1, SEE_MS))[0]!;

      await c.seek(tp, { offset: metas[7]!.offset });
      assert.equal(await c.position(tp), metas[7]!.offset);
      assert.equal(text((await first()).value), 'v7');

      await c.seek(tp, 'earliest');
      assert.equal(await c.position(tp), metas[0]!.offset);
      assert.equal(text((await first()).value), 'v0');

      await c.seek(tp, 'latest');
      assert.equal(await c.position(tp), end);
      assert.deepEqual(await c.poll({ timeoutMs: 300 }), [], 'nothing after latest');

      await c.seek(tp, { timestamp: base + 4_500 });
      assert.equal(await c.position(tp), metas[5]!.offset, 'first record with ts ≥ target');
      const r5 = await first();
      assert.equal(text(r5.value), 'v5');
      assert.equal(r5.timestamp, base + 5_000);

      await c.seek(tp, { timestamp: base + 4_000 });
      assert.equal(text((await first()).value), 'v4', 'an exact timestamp match lands on that record');

      await c.seek(tp, { timestamp: base - 60_000 });
      assert.equal(await c.position(tp), metas[0]!.offset, 'a time before every record lands on the first');

      await c.seek(tp, { timestamp: base + 60_000 });
      assert.equal(await c.position(tp), end, 'a time after every record lands on the end');
      assert.deepEqual(await c.poll({ timeoutMs: 300 }), []);
      // new records after the end are read from there
      await env.producer().send([{ topic, value: bytes('later') }]);
      assert.equal(text((await first()).value), 'later');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Transactions

function transactionCases(setup: Setup): void {
  describe('transactions', () => {
    it('commit makes records on two topics visible together to read_committed consumers', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const a = await env.topic();
      const b = await env.topic();
      const producer = env.producer({ transactionalId: randomTransactionalId() });
      const tx = await producer.beginTransaction();
      await tx.send([
        { topic: a, value: bytes('a1') },
        { topic: b, value: bytes('b1') },
      ]);
      await tx.send([{ topic: a, value: bytes('a2') }]);
      const c = env.consumer({ isolationLevel: 'read_committed' });
      await c.assign([
        { topic: a, partition: 0 },
        { topic: b, partition: 0 },
      ]);
      assert.deepEqual(await c.poll({ timeoutMs: 500 }), [], 'nothing of an open transaction is visible');
      await tx.commit();
      const read = await pollUntil(c, (rs) => rs.length >= 3, SEE_MS);
      assert.deepEqual(values(read.filter((r) => r.topic === a)), ['a1', 'a2']);
      assert.deepEqual(values(read.filter((r) => r.topic === b)), ['b1']);
    });

    it('abort: read_committed consumers never see aborted records', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const a = await env.topic({ partitions: 2 });
      const b = await env.topic();
      const producer = env.producer({ transactionalId: randomTransactionalId() });
      const tx1 = await producer.beginTransaction();
      await tx1.send([
        { topic: a, partition: 0, value: bytes('aborted-a0') },
        { topic: a, partition: 1, value: bytes('aborted-a1') },
        { topic: b, value: bytes('aborted-b') },
      ]);
      await tx1.abort();
      const tx2 = await producer.beginTransaction();
      await tx2.send([
        { topic: a, partition: 0, value: bytes('committed-a0') },
        { topic: a, partition: 1, value: bytes('committed-a1') },
        { topic: b, value: bytes('committed-b') },
      ]);
      await tx2.commit();
      const c = env.consumer({ isolationLevel: 'read_committed' });
      await c.assign([...(await partitionsOf(env.log, a)), ...(await partitionsOf(env.log, b))]);
      const read = await pollUntil(c, (rs) => rs.filter((r) => text(r.value).startsWith('committed-')).length >= 3, SEE_MS);
      assert.deepEqual(values(read).sort(), ['committed-a0', 'committed-a1', 'committed-b']);
      // a read_uncommitted consumer may or may not see aborted records; it must see the committed ones
      const u = env.consumer({ isolationLevel: 'read_uncommitted' });
      await u.assign([{ topic: b, partition: 0 }]);
      await pollUntil(u, (rs) => rs.some((r) => text(r.value) === 'committed-b'), SEE_MS);
    });

    it('read_committed from the start skips each aborted transaction of a producer and keeps the committed ones between them', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const producer = env.producer({ transactionalId: randomTransactionalId() });
      const outcomes = ['abort', 'commit', 'commit', 'abort', 'commit', 'abort', 'abort', 'commit'] as const;
      for (const [i, outcome] of outcomes.entries()) {
        const tx = await producer.beginTransaction();
        await tx.send([{ topic, value: bytes(`${outcome}-${i}a`) }, { topic, value: bytes(`${outcome}-${i}b`) }]);
        await (outcome === 'commit' ? tx.commit() : tx.abort());
      }
      const want = outcomes.flatMap((o, i) => (o === 'commit' ? [`commit-${i}a`, `commit-${i}b`] : []));
      // Everything is in the log before the read starts, so one read may see every marker at once.
      const c = env.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
      await c.assign([{ topic, partition: 0 }]);
      const read = await pollUntil(c, (rs) => rs.length >= want.length, SEE_MS);
      assert.deepEqual(values(read), want);
      assert.deepEqual(await c.poll({ timeoutMs: 300 }), [], 'nothing after the last committed record');
    });

    it('sendOffsets commits group offsets atomically with the records', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const input = await env.topic();
      const output = await env.topic();
      await env.producer().send(Array.from({ length: 10 }, (_, i) => ({ topic: input, value: bytes(`in${i}`) })));
      const tp = { topic: input, partition: 0 };
      const g1 = randomGroup();
      const g2 = randomGroup();
      const producer = env.producer({ transactionalId: randomTransactionalId() });

      const tx1 = await producer.beginTransaction();
      await tx1.send([{ topic: output, value: bytes('out1') }]);
      await tx1.sendOffsets({ groupId: g1, offsets: [{ ...tp, offset: 5 }] });
      await tx1.commit();
      const c1 = env.consumer({ groupId: g1 });
      assert.deepEqual(await c1.committed([tp]), [{ ...tp, offset: 5 }], 'committed transaction commits the offsets');

      const tx2 = await producer.beginTransaction();
      await tx2.send([{ topic: output, value: bytes('out2-aborted') }]);
      await tx2.sendOffsets({ groupId: g1, offsets: [{ ...tp, offset: 9 }] });
      await tx2.sendOffsets({ groupId: g2, offsets: [{ ...tp, offset: 7 }] });
      await tx2.abort();
      assert.deepEqual(await c1.committed([tp]), [{ ...tp, offset: 5 }], 'aborted transaction leaves the offsets as they were');
      const c2 = env.consumer({ groupId: g2 });
      assert.deepEqual(await c2.committed([tp]), [{ ...tp, offset: null }], 'aborted transaction commits nothing');

      const out = await readAll(env.log, [output], { isolationLevel: 'read_committed' });
      assert.deepEqual(values(out), ['out1']);
    });

    it('zombie fencing: a new producer with the same transactionalId fences the old one', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const id = randomTransactionalId();
      const zombie = env.producer({ transactionalId: id });
      const tx1 = await zombie.beginTransaction();
      await tx1.send([{ topic, value: bytes('zombie') }]);
      const fresh = env.producer({ transactionalId: id });
      const tx2 = await fresh.beginTransaction();
      await expectCode(tx1.commit(), ErrorCode.LOG_PRODUCER_FENCED, id);
      await tx2.send([{ topic, value: bytes('fresh') }]);
      await tx2.commit();
      const c = env.consumer({ isolationLevel: 'read_committed' });
      await c.assign([{ topic, partition: 0 }]);
      const read = await pollUntil(c, (rs) => rs.some((r) => text(r.value) === 'fresh'), SEE_MS);
      assert.deepEqual(values(read), ['fresh'], "the fenced producer's records are never visible");
    });

    it('misuse of transactions fails with typed errors', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      // no transactionalId: the code is not pinned by types.ts; it must be a typed error
      let error: unknown;
      try {
        await env.producer().beginTransaction();
      } catch (e) {
        error = e;
      }
      assert.ok(isSluiceError(error), `beginTransaction without transactionalId fails with a SluiceError, got ${String(error)}`);
      assert.ok([ErrorCode.LOG_TRANSACTION_STATE, ErrorCode.INVALID_ARGUMENT].includes(error.code as never), `code ${error.code}`);

      const producer = env.producer({ transactionalId: randomTransactionalId() });
      const tx = await producer.beginTransaction();
      await expectCode(producer.beginTransaction(), ErrorCode.LOG_TRANSACTION_STATE);
      await tx.send([{ topic, value: bytes('x') }]);
      await tx.commit();
      await expectCode(tx.send([{ topic, value: bytes('late') }]), ErrorCode.LOG_TRANSACTION_STATE);
      await expectCode(tx.commit(), ErrorCode.LOG_TRANSACTION_STATE);
      await expectCode(tx.abort(), ErrorCode.LOG_TRANSACTION_STATE);
    });

    it('producer.send while a transaction is open fails with LOG_TRANSACTION_STATE (send through the transaction)', { timeout: CASE_MS }, async (t) => {
      // types.ts does not say; Kafka cannot mix transactional and plain sends on one producer id,
      // so both backends must refuse rather than silently differ.
      const env = await setup(t);
      const topic = await env.topic();
      const producer = env.producer({ transactionalId: randomTransactionalId() });
      const tx = await producer.beginTransaction();
      await expectCode(producer.send([{ topic, value: bytes('outside') }]), ErrorCode.LOG_TRANSACTION_STATE);
      await tx.abort();
      await producer.send([{ topic, value: bytes('plain') }]);
      const read = await readAll(env.log, [topic], { isolationLevel: 'read_committed' });
      assert.deepEqual(values(read), ['plain']);
    });

    it('an empty transaction commits and aborts cleanly, and the producer begins again', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const producer = env.producer({ transactionalId: randomTransactionalId() });
      await (await producer.beginTransaction()).abort();
      await (await producer.beginTransaction()).commit();
      const tx = await producer.beginTransaction();
      await tx.send([{ topic, value: bytes('after-empty') }]);
      await tx.commit();
      const read = await readAll(env.log, [topic], { isolationLevel: 'read_committed' });
      assert.deepEqual(values(read), ['after-empty']);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Compaction and retention

function cleanupCases(setup: Setup): void {
  describe('compaction and retention', () => {
    it('compaction keeps the latest value per key and drops older versions', { timeout: CLEANER_CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ cleanupPolicy: 'compact', segmentMs: 100 });
      const producer = env.producer();
      const keys = Array.from({ length: 10 }, (_, i) => `key${i}`);
      const versions = 100;
      for (let v = 0; v < versions; v++) await producer.send(keys.map((k) => ({ topic, key: bytes(k), value: bytes(`${k}=${v}`) })));
      let roll = 0;
      await eventually(
        async () => {
          // Kafka never cleans the active segment: keep rolling it with a small record
          await producer.send([{ topic, key: bytes('roll'), value: bytes(`roll-${roll++}`) }]);
          const keyed = (await readAll(env.log, [topic])).filter((r) => text(r.key) !== 'roll');
          assert.ok(keyed.length <= (keys.length * versions) / 4, `${keyed.length} of ${keys.length * versions} keyed records left`);
          const latest = new Map<string, string>();
          for (const r of keyed) latest.set(text(r.key!), text(r.value));
          for (const k of keys) assert.equal(latest.get(k), `${k}=${versions - 1}`, `latest value of ${k} survives`);
        },
        { timeoutMs: CLEANER_MS, intervalMs: 1_000, message: 'topic is compacted' },
      );
    });

    it('time retention removes old records: startOffset moves past them', { timeout: CLEANER_CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ retentionMs: 1_000, segmentMs: 100 });
      const producer = env.producer();
      const metas = await producer.send(Array.from({ length: 100 }, (_, i) => ({ topic, value: bytes(`old${i}`) })));
      let roll = 0;
      const start = await eventually(
        async () => {
          await producer.send([{ topic, value: bytes(`roll-${roll++}`) }]);
          const [p] = (await env.log.admin.describeTopic(topic)).partitions;
          assert.ok(p, 'one partition');
          assert.ok(p.startOffset > metas[0]!.offset, `startOffset ${p.startOffset} still at the first record`);
          assert.ok(p.startOffset <= p.endOffset);
          return p.startOffset;
        },
        { timeoutMs: CLEANER_MS, intervalMs: 1_000, message: 'retention removes old records' },
      );
      const c = env.consumer();
      const tp = { topic, partition: 0 };
      await c.assign([tp]);
      await c.seek(tp, 'earliest');
      assert.ok((await c.position(tp)) >= start, 'earliest is at or after the start offset');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Limits and edge cases

function limitCases(setup: Setup): void {
  describe('limits and edge cases', () => {
    it('sends 50 000 records in one batch', { timeout: CASE_MS * 2 }, async (t) => {
      const env = await setup(t);
      const partitions = 3;
      const topic = await env.topic({ partitions });
      const n = 50_000;
      const records: ProducerRecord[] = Array.from({ length: n }, (_, i) => ({ topic, value: bytes(`value-${String(i).padStart(6, '0')}-${'x'.repeat(40)}`) }));
      const metas = await env.producer().send(records);
      assert.equal(metas.length, n);
      const last = new Map<number, number>();
      for (const m of metas) {
        const prev = last.get(m.partition);
        if (prev !== undefined) assert.ok(m.offset > prev, 'offsets increase in input order');
        last.set(m.partition, m.offset);
      }
      const d = await env.log.admin.describeTopic(topic);
      assert.equal(
        d.partitions.reduce((s, p) => s + p.endOffset - p.startOffset, 0),
        n,
      );
      const read = await readAll(env.log, [topic]);
      assert.equal(read.length, n);
      assertOffsetOrder(read);
      const byLoc = new Map(read.map((r) => [`${r.partition}@${r.offset}`, text(r.value)]));
      metas.forEach((m, i) => {
        if (i % 997 === 0) assert.equal(byLoc.get(`${m.partition}@${m.offset}`), text(records[i]!.value));
      });
      assert.equal(new Set(byLoc.values()).size, n, 'each record is read once');
    });

    it('accepts a record of exactly maxRecordBytes (default 1 MiB)', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const key = bytes('big-key');
      const value = new Uint8Array(DEFAULT_MAX_RECORD_BYTES - key.byteLength);
      for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff;
      const [m] = await env.producer().send([{ topic, key, value }]);
      assert.ok(m);
      const [r] = await readAll(env.log, [topic]);
      assert.ok(r);
      assert.equal(r.offset, m.offset);
      assert.equal(r.value.byteLength, value.byteLength);
      assert.ok(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).equals(value), 'the value comes back intact');
    });

    it('empty topic: poll returns [] within its timeout, lag 0, start = end = 0', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ partitions: 3 });
      const d = await env.log.admin.describeTopic(topic);
      assert.equal(d.partitions.length, 3);
      for (const p of d.partitions) assert.deepEqual([p.startOffset, p.endOffset], [0, 0], `partition ${p.partition}`);
      const c = env.consumer({ groupId: randomGroup() });
      const tps = await partitionsOf(env.log, topic);
      await c.assign(tps);
      assert.deepEqual(sortTps(c.assignment()), sortTps(tps));
      const started = Date.now();
      assert.deepEqual(await c.poll({ timeoutMs: 300 }), []);
      assert.ok(Date.now() - started < 300 + 10_000, 'poll returns once its timeout has passed');
      const lag = [...(await c.lag())].sort((x, y) => x.partition - y.partition);
      assert.deepEqual(
        lag,
        [0, 1, 2].map((partition) => ({ topic, partition, position: 0, committed: null, endOffset: 0, lag: 0 })),
      );
    });

    it('unknown topics fail with LOG_UNKNOWN_TOPIC on send, describe, delete, assign', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const missing = randomTopic('missing');
      await expectCode(env.producer().send([{ topic: missing, value: bytes('x') }]), ErrorCode.LOG_UNKNOWN_TOPIC, missing);
      await expectCode(env.log.admin.describeTopic(missing), ErrorCode.LOG_UNKNOWN_TOPIC, missing);
      await expectCode(env.log.admin.deleteTopic(missing), ErrorCode.LOG_UNKNOWN_TOPIC, missing);
      await expectCode(env.consumer().assign([{ topic: missing, partition: 0 }]), ErrorCode.LOG_UNKNOWN_TOPIC, missing);
      assert.ok(!(await env.log.admin.listTopics()).includes(missing), 'no call created the topic');
      // a batch naming a known and an unknown topic writes nothing
      const known = await env.topic();
      await expectCode(
        env.producer().send([
          { topic: known, value: bytes('ok') },
          { topic: missing, value: bytes('x') },
        ]),
        ErrorCode.LOG_UNKNOWN_TOPIC,
        missing,
      );
      assert.deepEqual(await endOffsets(env.log, known), [0], 'nothing of the batch is written');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Bad input

function badInputCases(setup: Setup): void {
  describe('bad input', () => {
    const badNames = ['', 'a b', '..', '.', 'x'.repeat(250), 'slash/topic', 'ünïcode'];

    it('invalid topic names fail with LOG_INVALID_TOPIC_NAME naming the topic', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const producer = env.producer();
      for (const name of badNames) {
        const mention = name === '' ? '""' : name;
        await expectCode(env.log.admin.createTopic(name), ErrorCode.LOG_INVALID_TOPIC_NAME, mention);
        await expectCode(env.log.admin.describeTopic(name), ErrorCode.LOG_INVALID_TOPIC_NAME, mention);
        await expectCode(env.log.admin.deleteTopic(name), ErrorCode.LOG_INVALID_TOPIC_NAME, mention);
        await expectCode(producer.send([{ topic: name, value: bytes('x') }]), ErrorCode.LOG_INVALID_TOPIC_NAME, mention);
        await expectCode(env.consumer().assign([{ topic: name, partition: 0 }]), ErrorCode.LOG_INVALID_TOPIC_NAME, mention);
      }
      // 249 characters is the longest legal name
      const longest = `t-${'x'.repeat(247)}`;
      await env.log.admin.createTopic(longest);
      await env.log.admin.deleteTopic(longest);
    });

    it('bad partition numbers fail with LOG_INVALID_PARTITION on send and assign', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ partitions: 2 });
      const producer = env.producer();
      for (const partition of [-1, 1.5, 2, Number.NaN]) {
        await expectCode(producer.send([{ topic, partition, value: bytes('x') }]), ErrorCode.LOG_INVALID_PARTITION, topic, String(partition));
        await expectCode(env.consumer().assign([{ topic, partition }]), ErrorCode.LOG_INVALID_PARTITION, topic, String(partition));
      }
      // the valid record before the bad one is not written either
      await expectCode(
        producer.send([
          { topic, partition: 0, value: bytes('ok') },
          { topic, partition: 2, value: bytes('bad') },
        ]),
        ErrorCode.LOG_INVALID_PARTITION,
      );
      assert.deepEqual(await endOffsets(env.log, topic), [0, 0]);
    });

    it('a record over maxRecordBytes fails with LOG_RECORD_TOO_LARGE and nothing of its batch is written', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const a = await env.topic({ partitions: 2 });
      const b = await env.topic();
      const small = env.producer({ maxRecordBytes: 1_000 });
      await expectCode(
        small.send([
          { topic: a, partition: 0, value: bytes('ok-1') },
          { topic: b, value: bytes('ok-2') },
          { topic: a, partition: 1, value: new Uint8Array(1_001) },
        ]),
        ErrorCode.LOG_RECORD_TOO_LARGE,
        a,
        '1001',
      );
      // key and headers count towards the size
      await expectCode(small.send([{ topic: a, key: new Uint8Array(600), value: new Uint8Array(401) }]), ErrorCode.LOG_RECORD_TOO_LARGE, a);
      await expectCode(small.send([{ topic: a, value: new Uint8Array(900), headers: { h: new Uint8Array(200) } }]), ErrorCode.LOG_RECORD_TOO_LARGE, a);
      // the default limit is 1 MiB
      await expectCode(
        env.producer().send([
          { topic: b, value: bytes('ok') },
          { topic: b, value: new Uint8Array(DEFAULT_MAX_RECORD_BYTES + 1) },
        ]),
        ErrorCode.LOG_RECORD_TOO_LARGE,
        b,
      );
      assert.deepEqual(await endOffsets(env.log, a), [0, 0], 'nothing written to a');
      assert.deepEqual(await endOffsets(env.log, b), [0], 'nothing written to b');
      // the producer still works afterwards
      await small.send([{ topic: b, value: new Uint8Array(1_000) }]);
      assert.deepEqual(await endOffsets(env.log, b), [1]);
    });

    it('values, keys and headers that are not bytes fail with LOG_INVALID_RECORD', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const producer = env.producer();
      const bad: readonly ProducerRecord[] = [
        { topic, value: 'text' as unknown as Uint8Array },
        { topic, value: 42 as unknown as Uint8Array },
        { topic, value: undefined as unknown as Uint8Array },
        { topic, key: 'key' as unknown as Uint8Array, value: bytes('x') },
        { topic, value: bytes('x'), headers: { h: 'text' as unknown as Uint8Array } },
        { topic, value: bytes('x'), timestamp: -1 },
      ];
      for (const record of bad) {
        await expectCode(producer.send([{ topic, value: bytes('ok') }, record]), ErrorCode.LOG_INVALID_RECORD, topic);
      }
      assert.deepEqual(await endOffsets(env.log, topic), [0], 'nothing of the bad batches is written');
    });

    it('commit of a partition not assigned fails with LOG_NOT_ASSIGNED; seek and position too', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic({ partitions: 2 });
      const c = env.consumer({ groupId: randomGroup() });
      await c.assign([{ topic, partition: 0 }]);
      const p1 = { topic, partition: 1 };
      await expectCode(c.commit([{ ...p1, offset: 0 }]), ErrorCode.LOG_NOT_ASSIGNED, `${topic}/1`);
      await expectCode(c.seek(p1, 'earliest'), ErrorCode.LOG_NOT_ASSIGNED, topic);
      await expectCode(c.position(p1), ErrorCode.LOG_NOT_ASSIGNED, topic);
    });

    it('commit, committed or subscribe without a groupId fails with LOG_NO_GROUP', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const c = env.consumer();
      await c.assign([{ topic, partition: 0 }]);
      await expectCode(c.commit(), ErrorCode.LOG_NO_GROUP, 'groupId');
      await expectCode(c.commit([{ topic, partition: 0, offset: 0 }]), ErrorCode.LOG_NO_GROUP, 'groupId');
      await expectCode(c.committed([{ topic, partition: 0 }]), ErrorCode.LOG_NO_GROUP, 'groupId');
      await expectCode(env.consumer().subscribe([topic]), ErrorCode.LOG_NO_GROUP, 'groupId');
    });

    it('negative or fractional offsets fail with SLUICE_INVALID_ARGUMENT', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const tp = { topic, partition: 0 };
      const c = env.consumer({ groupId: randomGroup() });
      await c.assign([tp]);
      await expectCode(c.seek(tp, { offset: -1 }), ErrorCode.INVALID_ARGUMENT);
      await expectCode(c.seek(tp, { offset: 1.5 }), ErrorCode.INVALID_ARGUMENT);
      await expectCode(c.commit([{ ...tp, offset: -1 }]), ErrorCode.INVALID_ARGUMENT);
    });

    it('calls on a closed producer fail with LOG_CLOSED', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const producer = env.producer({ transactionalId: randomTransactionalId() });
      await producer.send([{ topic, value: bytes('x') }]);
      await producer.close();
      await expectCode(producer.send([{ topic, value: bytes('y') }]), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(producer.beginTransaction(), ErrorCode.LOG_CLOSED, 'closed');
    });

    it('calls on a closed consumer fail with LOG_CLOSED', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const tp = { topic, partition: 0 };
      const consumer = env.consumer({ groupId: randomGroup() });
      await consumer.assign([tp]);
      await consumer.close();
      await expectCode(consumer.poll({ timeoutMs: 10 }), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(consumer.assign([tp]), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(consumer.subscribe([topic]), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(consumer.seek(tp, 'earliest'), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(consumer.position(tp), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(consumer.commit(), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(consumer.committed([tp]), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(consumer.lag(), ErrorCode.LOG_CLOSED, 'closed');
    });

    it('the synchronous accessors of a closed consumer (assignment, generation) throw LOG_CLOSED', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const consumer = env.consumer({ groupId: randomGroup() });
      await consumer.assign([{ topic, partition: 0 }]);
      await consumer.close();
      await expectCode(() => consumer.assignment(), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(() => consumer.generation(), ErrorCode.LOG_CLOSED, 'closed');
    });

    it('closing the log closes what it made; later calls on it fail with LOG_CLOSED', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const topic = await env.topic();
      const producer = env.producer();
      const consumer = env.consumer();
      await consumer.assign([{ topic, partition: 0 }]);
      await env.log.close();
      await expectCode(producer.send([{ topic, value: bytes('z') }]), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(consumer.poll({ timeoutMs: 10 }), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(() => env.log.producer(), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(() => env.log.consumer(), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(env.log.admin.createTopic(randomTopic()), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(env.log.admin.listTopics(), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(env.log.admin.describeTopic(topic), ErrorCode.LOG_CLOSED, 'closed');
      await expectCode(env.log.admin.deleteTopic(topic), ErrorCode.LOG_CLOSED, 'closed');
    });

    it('bad topic options fail with SLUICE_INVALID_ARGUMENT naming the option', { timeout: CASE_MS }, async (t) => {
      const env = await setup(t);
      const cases: readonly (readonly [CreateTopicOptions, string])[] = [
        [{ partitions: 0 }, 'partitions'],
        [{ partitions: -3 }, 'partitions'],
        [{ partitions: 1.5 }, 'partitions'],
        [{ retentionMs: 0 }, 'retentionMs'],
        [{ retentionBytes: -1 }, 'retentionBytes'],
        [{ segmentMs: 0 }, 'segmentMs'],
        [{ cleanupPolicy: 'forever' as never }, 'cleanupPolicy'],
      ];
      for (const [options, path] of cases) {
        const name = randomTopic();
        await expectCode(env.log.admin.createTopic(name, options), ErrorCode.INVALID_ARGUMENT, path, name);
        assert.ok(!(await env.log.admin.listTopics()).includes(name), `${path}: no topic is created`);
      }
    });
  });
}
