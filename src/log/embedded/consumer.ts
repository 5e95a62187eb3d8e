/**
 * The embedded consumer: positions per assigned partition, batched reads from the partition log,
 * and, when subscribed, membership of a consumer group (group-coordinator.ts) whose rebalances take
 * effect inside `poll`, as in Kafka.
 */
import { randomUUID } from 'node:crypto';
import type { StatementSync } from 'node:sqlite';
import { ErrorCode, isSluiceError, SluiceError } from '../../errors.ts';
import type {
  CommittedOffset,
  Consumer,
  ConsumerOptions,
  LogRecord,
  PartitionLag,
  RebalanceListener,
  SeekTarget,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.ts';
import { CONSUMER_DEFAULTS } from '../defaults.ts';
import { assertOffset, assertOpen, assertPartition, definedOnly } from '../validate.ts';
import type { BatchCursor } from './batch.ts';
import type { EmbeddedContext } from './context.ts';

/**
 * Polls check that the group is still stable at the member's generation at most this often (a
 * query each; a busy consumer polls hundreds of times a second). A rebalance is noticed that much
 * later at worst — Kafka consumers hear of one only at their next heartbeat — and at once after a
 * commit was refused for it.
 */
const GROUP_CHECK_MS = 20;
/** How soon a heartbeat that found the database locked tries again. */
const BEAT_RETRY_MS = 1;

const key = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

/** The read position of one assigned partition. */
interface PositionEntry {
  readonly tp: TopicPartition;
  position: number;
  /**
   * The rest of the last batch read, valid while the position is still `aheadFrom`: the next read
   * goes on decoding it instead of reading and checking that batch again.
   */
  ahead: BatchCursor | null;
  aheadFrom: number;
}

interface Membership {
  readonly groupId: string;
  readonly memberId: string;
  readonly topics: readonly string[];
  readonly listener: RebalanceListener | undefined;
  generation: number | null;
  acknowledged: number;
  heartbeat: NodeJS.Timeout;
  /** When (performance.now) the last timer heartbeat got through. */
  lastBeat: number;
  /** A beat that found the database locked, to try again; null when none. */
  retry: NodeJS.Timeout | null;
  /** When (performance.now) a poll last found the group stable at `generation`. */
  checkedAt: number;
}

/** A consumer on the embedded log. */
export class EmbeddedConsumer implements Consumer {
  readonly #ctx: EmbeddedContext;
  readonly #options: Required<Omit<ConsumerOptions, 'groupId'>> & { groupId: string | undefined };
  readonly #onClose: () => void;
  /** Next offset to read, per assigned partition. */
  #positions = new Map<string, PositionEntry>();
  #membership: Membership | null = null;
  #rotation = 0;
  #closed = false;
  readonly #dataVersionQuery: StatementSync;

  constructor(ctx: EmbeddedContext, options: ConsumerOptions, onClose: () => void) {
    this.#ctx = ctx;
    this.#options = { ...CONSUMER_DEFAULTS, ...definedOnly(options), groupId: options.groupId };
    this.#onClose = onClose;
    this.#dataVersionQuery = ctx.db.prepare('PRAGMA data_version');
    for (const name of ['maxPollRecords', 'sessionTimeoutMs', 'heartbeatIntervalMs'] as const) {
      const v = this.#options[name];
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `consumer option ${name} must be a positive integer, got ${String(v)}`, { details: { path: name } });
      }
    }
    if (options.groupId !== undefined && (typeof options.groupId !== 'string' || options.groupId.length === 0)) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `consumer option groupId must be a non-empty string, got ${JSON.stringify(options.groupId)}`);
    }
  }

  subscribe(topics: readonly string[], listener?: RebalanceListener): Promise<void> {
    return this.#run(() => {
      const groupId = this.#requireGroup('subscribe');
      if (!Array.isArray(topics) || topics.length === 0) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'subscribe() needs a non-empty array of topic names');
      for (const t of topics) this.#ctx.topics.get(t);
      if (this.#membership !== null || this.#positions.size > 0) {
        throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'this consumer is already subscribed or assigned; use a new consumer');
      }
      const memberId = randomUUID();
      this.#ctx.groups.join(groupId, memberId, topics, this.#options.sessionTimeoutMs);
      const heartbeat = setInterval(() => this.#heartbeat(), this.#options.heartbeatIntervalMs);
      heartbeat.unref();
      this.#membership = { groupId, memberId, topics: [...topics], listener, generation: null, acknowledged: 0, heartbeat, lastBeat: performance.now(), retry: null, checkedAt: Number.NEGATIVE_INFINITY };
    });
  }

  assign(partitions: readonly TopicPartition[]): Promise<void> {
    return this.#run(() => {
      if (this.#membership !== null) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'this consumer is subscribed to a group; assign() needs a consumer without subscribe()');
      if (!Array.isArray(partitions)) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'assign() takes an array of { topic, partition }');
      for (const tp of partitions) {
        const topic = this.#ctx.topics.get(tp.topic);
        assertPartition(tp.topic, tp.partition, topic.config.partitions);
      }
      this.#dropPositions();
      this.#take(partitions);
    });
  }

  assignment(): TopicPartition[] {
    assertOpen(this.#closed, 'consumer');
    return [...this.#positions.values()].map((p) => p.tp);
  }

  generation(): number | null {
    assertOpen(this.#closed, 'consumer');
    return this.#membership?.generation ?? null;
  }

  /** Member id and generation for fencing a transactional offset commit; null outside a group. */
  fence(): { memberId: string; generation: number } | null {
    const m = this.#membership;
    return m === null || m.generation === null ? null : { memberId: m.memberId, generation: m.generation };
  }

  async poll(options: { readonly maxRecords?: number; readonly timeoutMs?: number } = {}): Promise<LogRecord[]> {
    assertOpen(this.#closed, 'consumer');
    const maxRecords = options.maxRecords ?? this.#options.maxPollRecords;
    const timeoutMs = options.timeoutMs ?? 1_000;
    const deadline = performance.now() + timeoutMs;
    let version = -1;
    for (;;) {
      if (this.#membership !== null) await this.#syncGroup(this.#membership);
      const current = this.#dataVersion();
      if (current !== version) {
        version = current;
        const records = this.#read(maxRecords);
        if (records.length > 0) return records;
      }
      const left = deadline - performance.now();
      if (left <= 0 || this.#closed) return [];
      await this.#ctx.appended.wait(Math.min(left, this.#ctx.appended.pollIntervalMs()));
    }
  }

  /**
   * Changes whenever another connection commits — every append does, since appends are made by
   * writer threads — so an idle poll skips the reads.
   */
  #dataVersion(): number {
    return (this.#dataVersionQuery.get() as { data_version: number }).data_version;
  }

  #read(maxRecords: number): LogRecord[] {
    const out: LogRecord[] = [];
    const entries = [...this.#positions.values()];
    const n = entries.length;
    if (n === 0) return out;
    const start = this.#rotation++ % n;
    for (let i = 0; i < n && out.length < maxRecords; i++) {
      const entry = entries[(start + i) % n]!;
      // Records read ahead first; when they fill the batch, that is the whole read of this poll.
      if (!this.#readAhead(entry, maxRecords - out.length, out) || out.length >= maxRecords) break;
      const topic = this.#ctx.topics.get(entry.tp.topic);
      const { startOffset, endOffset } = this.#ctx.log.bounds(topic, entry.tp.partition);
      if (entry.position < startOffset || entry.position > endOffset) {
        entry.position = this.#options.autoOffsetReset === 'earliest' ? startOffset : endOffset;
      }
      if (entry.position >= endOffset) continue;
      const before = out.length;
      entry.ahead = this.#ctx.log.read(topic, entry.tp.partition, entry.position, maxRecords - out.length, out);
      if (out.length > before) entry.position = out[out.length - 1]!.offset + 1;
      else entry.position = endOffset;
      entry.aheadFrom = entry.position;
    }
    return out;
  }

  /** Takes up to `max` records of the batch read ahead for `entry` (dropping it if it was sought elsewhere); true when it has none left. */
  #readAhead(entry: PositionEntry, max: number, out: LogRecord[]): boolean {
    const ahead = entry.ahead;
    if (ahead === null) return true;
    if (entry.aheadFrom !== entry.position) {
      entry.ahead = null;
      return true;
    }
    const before = out.length;
    ahead.take(entry.position, max, out);
    if (out.length > before) entry.position = entry.aheadFrom = out[out.length - 1]!.offset + 1;
    if (!ahead.done) return false;
    entry.ahead = null;
    return true;
  }

  /** Applies the group's state: revoke on a pending rebalance, take partitions when it is done. */
  async #syncGroup(m: Membership): Promise<void> {
    const groups = this.#ctx.groups;
    if (m.generation !== null) {
      const now = performance.now();
      if (now - m.checkedAt < GROUP_CHECK_MS) return;
      if (groups.stableAt(m.groupId, m.generation)) {
        m.checkedAt = now;
        return;
      }
    }
    let view = groups.view(m.groupId, m.memberId);
    if (view.memberJoinedGeneration === null) {
      await this.#revoke(m);
      groups.join(m.groupId, m.memberId, m.topics, this.#options.sessionTimeoutMs);
      view = groups.view(m.groupId, m.memberId);
    }
    if (view.state === 'rebalancing') {
      if (view.memberJoinedGeneration !== view.targetGeneration) {
        await this.#revoke(m);
        groups.acknowledge(m.groupId, m.memberId, view.targetGeneration);
      } else {
        groups.heartbeat(m.groupId, m.memberId);
      }
      view = groups.view(m.groupId, m.memberId);
    }
    if (view.state === 'stable' && view.generation !== m.generation && view.memberJoinedGeneration === view.generation) {
      const mine = view.assignment[m.memberId] ?? [];
      m.generation = view.generation;
      this.#take(mine);
      await m.listener?.onAssigned?.(mine);
    }
  }

  async #revoke(m: Membership): Promise<void> {
    if (m.generation === null) return;
    const revoked = [...this.#positions.values()].map((p) => p.tp);
    await m.listener?.onRevoked?.(revoked);
    m.generation = null;
    this.#dropPositions();
  }

  /** Stops reading every partition: the log may close the segment files held for them. */
  #dropPositions(): void {
    for (const { tp } of this.#positions.values()) {
      try {
        this.#ctx.log.release(this.#ctx.topics.get(tp.topic), tp.partition);
      } catch {
        // The topic is gone: its files went with it.
      }
    }
    this.#positions = new Map();
  }

  /** Starts reading partitions at the group's committed offsets, or per autoOffsetReset. */
  #take(partitions: readonly TopicPartition[]): void {
    const groupId = this.#options.groupId;
    const committed = groupId === undefined ? [] : this.#ctx.groups.committed(groupId, partitions);
    partitions.forEach((tp, i) => {
      const topic = this.#ctx.topics.get(tp.topic);
      const { startOffset, endOffset } = this.#ctx.log.bounds(topic, tp.partition);
      const position = committed[i]?.offset ?? (this.#options.autoOffsetReset === 'earliest' ? startOffset : endOffset);
      this.#positions.set(key(tp), { tp: { topic: tp.topic, partition: tp.partition }, position, ahead: null, aheadFrom: position });
    });
  }

  /**
   * The timer's heartbeat. It does not wait for another connection's write lock (a writer thread
   * busy committing would stall this thread's event loop for milliseconds at every beat): a beat
   * that finds the database locked tries again every {@link BEAT_RETRY_MS} from a timer until it
   * gets through, so the recorded heartbeat lags by little more than the lock was held. Should it
   * still be half a session timeout old, the beat waits for the lock (as every beat used to).
   */
  #heartbeat(): void {
    const m = this.#membership;
    if (m === null || this.#closed || m.retry !== null) return;
    const now = performance.now();
    try {
      const groups = this.#ctx.groups;
      const overdue = now - m.lastBeat >= this.#options.sessionTimeoutMs / 2;
      const beat = overdue ? groups.heartbeat(m.groupId, m.memberId) : groups.tryHeartbeat(m.groupId, m.memberId);
      if (beat !== null) m.lastBeat = now;
      else {
        m.retry = setTimeout(() => {
          m.retry = null;
          this.#heartbeat();
        }, BEAT_RETRY_MS);
        m.retry.unref();
      }
    } catch {
      // A busy database delays a heartbeat; the next one (or the next poll) catches up.
    }
  }

  seek(partition: TopicPartition, target: SeekTarget): Promise<void> {
    return this.#run(() => {
      const entry = this.#assigned(partition, 'seek');
      const topic = this.#ctx.topics.get(partition.topic);
      const { startOffset, endOffset } = this.#ctx.log.bounds(topic, partition.partition);
      if (target === 'earliest') entry.position = startOffset;
      else if (target === 'latest') entry.position = endOffset;
      else if (typeof target === 'object' && target !== null && 'offset' in target) {
        assertOffset('seek offset', target.offset);
        entry.position = target.offset;
      } else if (typeof target === 'object' && target !== null && 'timestamp' in target) {
        assertOffset('seek timestamp', target.timestamp);
        entry.position = this.#ctx.log.offsetForTimestamp(topic, partition.partition, target.timestamp) ?? endOffset;
      } else {
        throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `seek target must be 'earliest', 'latest', { offset } or { timestamp }, got ${JSON.stringify(target)}`);
      }
    });
  }

  position(partition: TopicPartition): Promise<number> {
    return this.#run(() => this.#assigned(partition, 'position').position);
  }

  /** Commits on the writer thread (fenced by the member's generation there), as appends do. */
  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    const request = await this.#run(() => {
      const groupId = this.#requireGroup('commit');
      const list = offsets ?? [...this.#positions.values()].map((e) => ({ ...e.tp, offset: e.position }));
      for (const o of list) {
        this.#assigned(o, 'commit');
        assertOffset(`commit offset for ${o.topic}/${o.partition}`, o.offset);
      }
      return { durable: true, appends: [], transaction: null, commits: [{ groupId, offsets: list, fence: this.fence() }] };
    });
    await this.#ctx.writer.submit(request).catch((error: unknown) => {
      // Refused for a rebalance: the next poll checks the group at once (see GROUP_CHECK_MS).
      if (this.#membership !== null && isSluiceError(error, ErrorCode.LOG_REBALANCE_IN_PROGRESS)) this.#membership.checkedAt = Number.NEGATIVE_INFINITY;
      throw error;
    });
  }

  committed(partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    return this.#run(() => {
      const groupId = this.#requireGroup('committed');
      for (const tp of partitions) this.#ctx.topics.get(tp.topic);
      return this.#ctx.groups.committed(groupId, partitions);
    });
  }

  lag(): Promise<PartitionLag[]> {
    return this.#run(() => {
      const entries = [...this.#positions.values()];
      const groupId = this.#options.groupId;
      const committed = groupId === undefined ? [] : this.#ctx.groups.committed(groupId, entries.map((e) => e.tp));
      return entries.map((e, i) => {
        const { endOffset } = this.#ctx.log.bounds(this.#ctx.topics.get(e.tp.topic), e.tp.partition);
        return { ...e.tp, position: e.position, committed: committed[i]?.offset ?? null, endOffset, lag: Math.max(0, endOffset - e.position) };
      });
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const m = this.#membership;
    if (m !== null) {
      clearInterval(m.heartbeat);
      if (m.retry !== null) clearTimeout(m.retry);
      this.#ctx.groups.leave(m.groupId, m.memberId);
    }
    this.#dropPositions();
    this.#onClose();
    return Promise.resolve();
  }

  #requireGroup(action: string): string {
    const groupId = this.#options.groupId;
    if (groupId === undefined) {
      throw new SluiceError(ErrorCode.LOG_NO_GROUP, `${action}() needs a consumer created with a groupId`);
    }
    return groupId;
  }

  #assigned(tp: TopicPartition, action: string): PositionEntry {
    const entry = this.#positions.get(key(tp));
    if (entry === undefined) {
      throw new SluiceError(ErrorCode.LOG_NOT_ASSIGNED, `cannot ${action} ${tp.topic}/${tp.partition}: partition not assigned to this consumer`, {
        details: { topic: tp.topic, partition: tp.partition },
      });
    }
    return entry;
  }

  /** Runs a synchronous body after the closed check, as a promise (errors become rejections). */
  #run<T>(body: () => T): Promise<T> {
    try {
      assertOpen(this.#closed, 'consumer');
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
