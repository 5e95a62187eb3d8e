/**
 * The Kafka consumer: a poll API over the client's low-level Fetch, with our own positions and a
 * bounded per-partition buffer (we fetch a partition only when its buffer is empty). One fetch is
 * in flight at a time; when a poll leaves some partition's buffer empty, the next fetch starts
 * right away in the background (like the Java consumer's prefetch), so the caller's processing of
 * this batch overlaps the broker's answer for the next. Group
 * membership (JoinGroup/SyncGroup/heartbeats) is the client's; eager rebalances revoke everything
 * before rejoining (the listener's onRevoked runs then, while commits are still accepted) and
 * onAssigned runs when the new assignment arrives; poll waits for both. Listener calls run in the
 * background (the client's group events start them), so an error a listener throws is kept and
 * thrown by every later poll and subscribe, as the embedded backend's poll throws it: a failed
 * onAssigned (say, a state restore) must stop the caller, not leave it running half-assigned.
 */
import { randomUUID } from 'node:crypto';
import type { Admin as KafkaAdmin } from '@platformatic/kafka';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { KafkaLogConfig } from '../config.ts';
import type {
  CommittedOffset, Consumer, ConsumerOptions, LogRecord, PartitionLag, RebalanceListener, SeekTarget, TopicPartition, TopicPartitionOffset,
} from '../types.ts';
import { CONSUMER_DEFAULTS } from '../defaults.ts';
import { assertOffset, assertOpen, assertPartition, assertTopicName, definedOnly } from '../validate.ts';
import { EARLIEST, LATEST } from './admin.ts';
import { baseOptions, type TopicCache, unknownTopic } from './client.ts';
import { brokerErrorId, isUnknownTopic, toSluiceError } from './errors.ts';
import { decodePartition, type FetchResponse } from './fetch.ts';
import { FetchClient } from './fetch-client.ts';
import type { GroupMembership } from './transaction.ts';

/** Bytes asked per partition per fetch; bounds the buffer of each partition. */
const PARTITION_FETCH_BYTES = 1024 * 1024;

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Next offset poll returns; null until resolved from the committed offset or the reset policy. */
  position: number | null;
  /** Next offset to fetch (past buffered records and control batches). */
  fetchOffset: number;
  /** Fetched records; those before index `next` were returned already. */
  buffer: LogRecord[];
  next: number;
}

/** A partition's state before anything was read. */
function freshState(tp: TopicPartition): PartitionState {
  return { topic: tp.topic, partition: tp.partition, position: null, fetchOffset: 0, buffer: [], next: 0 };
}

/** True when a partition has no fetched record left to return. */
const drained = (s: PartitionState): boolean => s.next >= s.buffer.length;

/** How long to wait for an open transaction to settle the committed offsets (Kafka's default transaction timeout). */
const UNSTABLE_OFFSETS_WAIT_MS = 60_000;

const keyOf = (t: TopicPartition): string => `${t.topic}\u0000${t.partition}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The Kafka implementation of {@link Consumer}. */
export class KafkaConsumer implements Consumer {
  readonly #client: FetchClient;
  readonly #admin: KafkaAdmin;
  readonly #topics: TopicCache;
  readonly #groupId: string | undefined;
  readonly #readCommitted: boolean;
  readonly #reset: 'earliest' | 'latest';
  readonly #maxPollRecords: number;
  readonly #onClose: () => void;
  #mode: 'none' | 'assign' | 'subscribe' = 'none';
  #assigned = new Map<string, PartitionState>();
  #listener: RebalanceListener = {};
  #joined = false;
  /** Listener calls and assignment changes, in order; poll waits for them. */
  #chain: Promise<void> = Promise.resolve();
  /** The first error a listener call threw (see the header). */
  #listenerFailure: { readonly error: unknown } | null = null;
  /** The fetch in flight (poll's, or a prefetch). */
  #fetching: Promise<void> | null = null;
  #closed = false;

  constructor(config: KafkaLogConfig, admin: KafkaAdmin, topics: TopicCache, options: ConsumerOptions, onClose: () => void) {
    const o = { ...CONSUMER_DEFAULTS, ...definedOnly(options) } as Required<ConsumerOptions>;
    const bad = (path: string, reason: string): never => {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `consumer ${path} ${reason}`, { details: { path } });
    };
    if (options.groupId !== undefined && (typeof options.groupId !== 'string' || options.groupId === '')) bad('groupId', 'must be a non-empty string');
    if (o.isolationLevel !== 'read_committed' && o.isolationLevel !== 'read_uncommitted') bad('isolationLevel', "must be 'read_committed' or 'read_uncommitted'");
    if (o.autoOffsetReset !== 'earliest' && o.autoOffsetReset !== 'latest') bad('autoOffsetReset', "must be 'earliest' or 'latest'");
    if (!Number.isSafeInteger(o.maxPollRecords) || o.maxPollRecords < 1) bad('maxPollRecords', 'must be a positive integer');
    if (!Number.isSafeInteger(o.sessionTimeoutMs) || o.sessionTimeoutMs < 1) bad('sessionTimeoutMs', 'must be a positive integer');
    if (!Number.isSafeInteger(o.heartbeatIntervalMs) || o.heartbeatIntervalMs < 1 || o.heartbeatIntervalMs > o.sessionTimeoutMs) {
      bad('heartbeatIntervalMs', 'must be a positive integer no larger than sessionTimeoutMs');
    }
    this.#admin = admin;
    this.#topics = topics;
    this.#groupId = options.groupId;
    this.#readCommitted = o.isolationLevel === 'read_committed';
    this.#reset = o.autoOffsetReset;
    this.#maxPollRecords = o.maxPollRecords;
    this.#onClose = onClose;
    this.#client = new FetchClient({
      ...baseOptions(config, 'consumer'),
      groupId: options.groupId ?? `sluice-nogroup-${randomUUID()}`,
      autocommit: false,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(o.sessionTimeoutMs, 30_000),
      isolationLevel: this.#readCommitted ? 1 : 0,
      minBytes: 1,
      maxBytesPerPartition: PARTITION_FETCH_BYTES,
      protocolsMetadata: () => this.#beforeJoin().then(() => Buffer.alloc(0)),
    });
    this.#client.on('consumer:group:join', (payload) => {
      const partitions = (payload.assignments ?? []).flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
      this.#enqueue(() => this.#applyAssignment(partitions));
    });
  }

  #enqueue(step: () => Promise<void> | void): Promise<void> {
    const next = this.#chain.then(step, step);
    this.#chain = next.catch((error: unknown) => {
      this.#listenerFailure ??= { error };
    });
    return next;
  }

  /** Eager rebalance: before (re)joining, give up every partition (onRevoked may commit). */
  async #beforeJoin(): Promise<void> {
    await this.#enqueue(async () => {
      if (this.#assigned.size === 0) return;
      const revoked = this.#assignmentList();
      try {
        await this.#listener.onRevoked?.(revoked);
      } finally {
        this.#assigned = new Map();
      }
    });
  }

  async #applyAssignment(partitions: TopicPartition[]): Promise<void> {
    if (this.#closed || this.#mode !== 'subscribe') return;
    this.#joined = true;
    const added: TopicPartition[] = [];
    const next = new Map<string, PartitionState>();
    for (const tp of partitions) {
      const old = this.#assigned.get(keyOf(tp));
      if (old === undefined) added.push(tp);
      next.set(keyOf(tp), old ?? freshState(tp));
    }
    const revoked = this.#assignmentList().filter((tp) => !next.has(keyOf(tp)));
    if (revoked.length > 0) await this.#listener.onRevoked?.(revoked);
    this.#assigned = next;
    if (added.length > 0) await this.#listener.onAssigned?.(added);
  }

  #assertOpen(): void {
    assertOpen(this.#closed, 'consumer');
  }

  #throwListenerFailure(): void {
    if (this.#listenerFailure !== null) throw this.#listenerFailure.error;
  }

  /** This member's group membership, for transactional offset commits (fencing). */
  groupMembership(): GroupMembership | null {
    if (this.#mode !== 'subscribe' || !this.#joined || this.#client.memberId === null) return null;
    return {
      groupId: this.#client.groupId,
      generationId: this.#client.generationId,
      memberId: this.#client.memberId,
      coordinatorId: this.#client.coordinatorId ?? -1,
    };
  }

  async subscribe(topics: readonly string[], listener: RebalanceListener = {}): Promise<void> {
    this.#assertOpen();
    if (this.#groupId === undefined) throw new SluiceError(ErrorCode.LOG_NO_GROUP, 'subscribe needs a consumer made with a groupId');
    if (this.#mode === 'assign') throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'this consumer uses assign(); it cannot also subscribe');
    if (!Array.isArray(topics) || topics.length === 0) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'subscribe needs at least one topic');
    for (const t of topics) await this.#topics.get(t);
    this.#listener = listener;
    this.#client.topics.clear();
    this.#client.topics.trackAll(...topics);
    this.#mode = 'subscribe';
    try {
      await this.#client.joinGroup({});
    } catch (error) {
      throw toSluiceError(error, `joining group '${this.#groupId}'`);
    }
    await this.#chain;
    this.#throwListenerFailure();
  }

  async assign(partitions: readonly TopicPartition[]): Promise<void> {
    this.#assertOpen();
    if (this.#mode === 'subscribe') throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'this consumer is subscribed; it cannot also assign');
    const next = new Map<string, PartitionState>();
    for (const tp of partitions) {
      const info = await this.#topics.get(tp.topic);
      assertPartition(tp.topic, tp.partition, info.partitions);
      next.set(keyOf(tp), this.#assigned.get(keyOf(tp)) ?? freshState(tp));
    }
    this.#mode = 'assign';
    this.#assigned = next;
    this.#client.topics.clear();
    this.#client.topics.trackAll(...new Set([...next.values()].map((s) => s.topic)));
  }

  assignment(): TopicPartition[] {
    this.#assertOpen();
    return this.#assignmentList();
  }

  #assignmentList(): TopicPartition[] {
    return [...this.#assigned.values()]
      .map(({ topic, partition }) => ({ topic, partition }))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  generation(): number | null {
    this.#assertOpen();
    return this.groupMembership()?.generationId ?? null;
  }

  #state(tp: TopicPartition): PartitionState {
    const s = this.#assigned.get(keyOf(tp));
    if (s === undefined) {
      throw new SluiceError(ErrorCode.LOG_NOT_ASSIGNED, `partition ${tp.topic}/${tp.partition} is not assigned to this consumer`, {
        details: { topic: tp.topic, partition: tp.partition },
      });
    }
    return s;
  }

  /** Offset at a bound or time; LATEST respects the isolation level (last stable offset). */
  async #offsetAt(tp: TopicPartition, timestamp: bigint): Promise<number> {
    try {
      const result = await this.#admin.listOffsets({
        topics: [{ name: tp.topic, partitions: [{ partitionIndex: tp.partition, timestamp }] }],
        isolationLevel: this.#readCommitted ? 1 : 0,
      });
      const offset = result[0]?.partitions[0]?.offset ?? -1n;
      if (offset < 0n) return this.#offsetAt(tp, LATEST);
      return Number(offset);
    } catch (error) {
      if (isUnknownTopic(error)) throw unknownTopic(tp.topic, error);
      throw toSluiceError(error, `listing offsets of ${tp.topic}/${tp.partition}`);
    }
  }

  #moveTo(s: PartitionState, offset: number): void {
    s.position = offset;
    s.fetchOffset = offset;
    s.buffer = [];
    s.next = 0;
  }

  /** Gives partitions without a position one: the group's committed offset, else the reset policy. */
  async #resolvePositions(): Promise<void> {
    const missing = [...this.#assigned.values()].filter((s) => s.position === null);
    if (missing.length === 0) return;
    const committed = this.#groupId === undefined ? missing.map(() => null) : (await this.committed(missing)).map((c) => c.offset);
    await Promise.all(
      missing.map(async (s, i) => {
        const offset = committed[i] ?? (await this.#offsetAt(s, this.#reset === 'earliest' ? EARLIEST : LATEST));
        if (s.position === null) this.#moveTo(s, offset);
      }),
    );
  }

  async poll(options: { readonly maxRecords?: number; readonly timeoutMs?: number } = {}): Promise<LogRecord[]> {
    this.#assertOpen();
    const maxRecords = options.maxRecords ?? this.#maxPollRecords;
    const timeoutMs = options.timeoutMs ?? 1_000;
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'poll maxRecords must be a positive integer');
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'poll timeoutMs must be a non-negative integer');
    const deadline = Date.now() + timeoutMs;
    // Even with timeoutMs 0, one fetch (that doesn't wait on the broker) reads what is there now.
    let fetched = false;
    for (;;) {
      await this.#chain;
      this.#assertOpen();
      this.#throwListenerFailure();
      await this.#resolvePositions();
      const out = this.#drain(maxRecords);
      if (out.length > 0) {
        this.#prefetch();
        return out;
      }
      const left = deadline - Date.now();
      if (this.#assigned.size === 0) {
        if (left <= 0) return [];
        await sleep(Math.min(left, 50));
        continue;
      }
      if (left <= 0 && fetched) return [];
      await this.#fetchRound(Math.max(0, Math.min(left, 500)));
      fetched = true;
    }
  }

  /** The fetch in flight, or a new one (one at a time). */
  #fetchRound(maxWaitMs: number): Promise<void> {
    if (this.#fetching === null) {
      const round: Promise<void> = this.#fetch(maxWaitMs).finally(() => {
        if (this.#fetching === round) this.#fetching = null;
      });
      this.#fetching = round;
    }
    return this.#fetching;
  }

  /**
   * Starts a fetch (not waiting at the broker) when a partition's buffer ran dry, so that its
   * records are there by the next poll. Its failure surfaces in the poll that needs it (or the
   * next fetch fails the same way).
   */
  #prefetch(): void {
    if (this.#fetching !== null || this.#closed) return;
    for (const s of this.#assigned.values()) {
      if (s.position !== null && drained(s)) {
        this.#fetchRound(0).catch(() => {});
        return;
      }
    }
  }

  /** Takes up to `max` buffered records, round-robin over partitions, in offset order per partition. */
  #drain(max: number): LogRecord[] {
    const out: LogRecord[] = [];
    for (const s of this.#assigned.values()) {
      if (out.length >= max) break;
      if (drained(s)) continue;
      const end = Math.min(s.buffer.length, s.next + max - out.length);
      for (let i = s.next; i < end; i++) out.push(s.buffer[i]!);
      s.next = end;
      if (drained(s)) {
        s.buffer = [];
        s.next = 0;
        s.position = s.fetchOffset;
      } else {
        s.position = s.buffer[end - 1]!.offset + 1;
      }
    }
    return out;
  }

  /** One Fetch for every assigned partition whose buffer is empty. */
  async #fetch(maxWaitMs: number): Promise<void> {
    const wanted = [...this.#assigned.values()].filter((s) => drained(s) && s.position !== null);
    if (wanted.length === 0) return;
    // Where each was fetched from: a seek meanwhile makes the answer stale.
    const requested = new Map(wanted.map((s) => [s, s.fetchOffset]));
    const byLeader = new Map<number, Map<string, { id: string; states: PartitionState[] }>>();
    for (const s of wanted) {
      const info = await this.#topics.get(s.topic);
      const leader = info.leaders[s.partition] ?? -1;
      let topics = byLeader.get(leader);
      if (topics === undefined) byLeader.set(leader, (topics = new Map()));
      let t = topics.get(s.topic);
      if (t === undefined) topics.set(s.topic, (t = { id: info.id, states: [] }));
      t.states.push(s);
    }
    await Promise.all(
      [...byLeader].map(async ([node, topics]) => {
        const byId = new Map([...topics].map(([name, t]) => [t.id, { name, states: t.states }]));
        let response: FetchResponse | undefined;
        try {
          response = await this.#client.fetch({
            node,
            maxWaitTime: maxWaitMs,
            minBytes: 1,
            maxBytes: PARTITION_FETCH_BYTES * Math.max(1, wanted.length),
            isolationLevel: this.#readCommitted ? 1 : 0,
            topics: [...topics.values()].map((t) => ({
              topicId: t.id,
              partitions: t.states.map((s) => ({
                partition: s.partition,
                fetchOffset: BigInt(s.fetchOffset),
                partitionMaxBytes: PARTITION_FETCH_BYTES,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            })),
          });
        } catch (error) {
          response = (error as { response?: FetchResponse }).response;
          const id = brokerErrorId(error);
          if (response === undefined || (id !== 'OFFSET_OUT_OF_RANGE' && id !== undefined && id !== 'NOT_LEADER_OR_FOLLOWER')) {
            if (this.#closed) return;
            for (const [name] of topics) this.#topics.forget(name);
            throw toSluiceError(error, 'fetching records');
          }
        }
        for (const t of response.responses) {
          const topic = byId.get(t.topicId);
          if (topic === undefined) continue;
          for (const p of t.partitions) {
            const s = topic.states.find((x) => x.partition === p.partitionIndex);
            if (s === undefined || this.#assigned.get(keyOf(s)) !== s || !drained(s) || s.fetchOffset !== requested.get(s)) continue;
            if (p.errorCode === 1) {
              // OFFSET_OUT_OF_RANGE: start again per the reset policy.
              this.#moveTo(s, await this.#offsetAt(s, this.#reset === 'earliest' ? EARLIEST : LATEST));
              continue;
            }
            if (p.errorCode !== 0) continue;
            const decoded = decodePartition(topic.name, p, s.fetchOffset, this.#readCommitted);
            s.buffer = decoded.records;
            s.next = 0;
            if (decoded.nextOffset !== null && decoded.nextOffset > s.fetchOffset) s.fetchOffset = decoded.nextOffset;
            if (s.buffer.length === 0) s.position = s.fetchOffset;
          }
        }
      }),
    );
  }

  async seek(partition: TopicPartition, target: SeekTarget): Promise<void> {
    this.#assertOpen();
    const s = this.#state(partition);
    let offset: number;
    if (target === 'earliest') offset = await this.#offsetAt(s, EARLIEST);
    else if (target === 'latest') offset = await this.#offsetAt(s, LATEST);
    else if (typeof target === 'object' && target !== null && 'offset' in target) {
      assertOffset('seek offset', target.offset);
      offset = target.offset;
    } else if (typeof target === 'object' && target !== null && 'timestamp' in target) {
      assertOffset('seek timestamp', target.timestamp);
      offset = await this.#offsetAt(s, BigInt(target.timestamp));
    } else {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `invalid seek target ${JSON.stringify(target)}`);
    }
    this.#moveTo(s, offset);
  }

  async position(partition: TopicPartition): Promise<number> {
    this.#assertOpen();
    const s = this.#state(partition);
    if (s.position === null) await this.#resolvePositions();
    return s.position ?? 0;
  }

  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    this.#assertOpen();
    if (this.#groupId === undefined) throw new SluiceError(ErrorCode.LOG_NO_GROUP, 'commit needs a consumer made with a groupId');
    let list: TopicPartitionOffset[];
    if (offsets === undefined) {
      await this.#resolvePositions();
      list = [...this.#assigned.values()].filter((s) => s.position !== null).map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position! }));
    } else {
      for (const o of offsets) {
        assertTopicName(o.topic);
        this.#state(o);
        assertOffset('commit offset', o.offset);
      }
      list = [...offsets];
    }
    if (list.length === 0) return;
    try {
      if (this.#mode === 'subscribe') {
        await this.#client.commit({ offsets: list.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) });
      } else {
        const topics = new Map<string, { partition: number; offset: bigint }[]>();
        for (const o of list) topics.set(o.topic, [...(topics.get(o.topic) ?? []), { partition: o.partition, offset: BigInt(o.offset) }]);
        await this.#admin.alterConsumerGroupOffsets({
          groupId: this.#groupId,
          topics: [...topics].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
        });
      }
    } catch (error) {
      throw toSluiceError(error, `committing offsets of group '${this.#groupId}'`);
    }
  }

  async committed(partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    this.#assertOpen();
    if (this.#groupId === undefined) throw new SluiceError(ErrorCode.LOG_NO_GROUP, 'committed needs a consumer made with a groupId');
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) {
      assertTopicName(tp.topic);
      byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    }
    if (byTopic.size === 0) return [];
    const request = {
      groups: [{ groupId: this.#groupId, topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) }],
      requireStable: true,
    };
    // While a transaction that commits offsets of these partitions is still open (say its producer
    // was killed), the broker answers UNSTABLE_OFFSET_COMMIT; like Kafka's Java client, wait for it
    // to be completed or aborted.
    const deadline = performance.now() + UNSTABLE_OFFSETS_WAIT_MS;
    let result;
    for (;;) {
      try {
        result = await this.#admin.listConsumerGroupOffsets(request);
        break;
      } catch (error) {
        if (brokerErrorId(error) !== 'UNSTABLE_OFFSET_COMMIT' || performance.now() > deadline) {
          throw toSluiceError(error, `reading committed offsets of group '${this.#groupId}'`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const found = new Map<string, number>();
    for (const g of result) for (const t of g.topics) for (const p of t.partitions) found.set(keyOf({ topic: t.name, partition: p.partitionIndex }), Number(p.committedOffset));
    return partitions.map(({ topic, partition }) => {
      const o = found.get(keyOf({ topic, partition }));
      return { topic, partition, offset: o === undefined || o < 0 ? null : o };
    });
  }

  async lag(): Promise<PartitionLag[]> {
    this.#assertOpen();
    await this.#resolvePositions();
    const parts = this.#assignmentList();
    const committed = this.#groupId === undefined ? parts.map((p) => ({ ...p, offset: null })) : await this.committed(parts);
    return Promise.all(
      parts.map(async (tp, i) => {
        const endOffset = await this.#offsetAt(tp, LATEST);
        const position = this.#assigned.get(keyOf(tp))?.position ?? 0;
        return { ...tp, position, committed: committed[i]?.offset ?? null, endOffset, lag: Math.max(0, endOffset - position) };
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#mode === 'subscribe') {
        try {
          await this.#client.leaveGroup(true);
        } catch {
          // Leaving is best effort: the session timeout removes the member anyway.
        }
      }
      await this.#client.close(true);
    } finally {
      this.#assigned = new Map();
      this.#onClose();
    }
  }
}
