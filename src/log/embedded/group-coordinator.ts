/**
 * Consumer groups of the embedded log, coordinated through the shared database so that members in
 * different processes form one group.
 *
 * The protocol is Kafka's eager rebalance, with the database as the coordinator:
 *   - a member joining or leaving (or expiring: no heartbeat within its session timeout) moves the
 *     group to `rebalancing` with a target generation;
 *   - every member, at its next poll, gives up its partitions (onRevoked, where it may still commit)
 *     and acknowledges the target generation;
 *   - when every live member has acknowledged (members that don't within the session timeout are
 *     removed), the assignment is computed round-robin over the sorted members and partitions, and
 *     the group becomes `stable` at the target generation; members then take their partitions.
 * Offset commits are fenced: a member may only commit while the group is at the generation it
 * holds, so a member that lost its partitions can't overwrite the new owner's progress.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { CommittedOffset, TopicPartition, TopicPartitionOffset } from '../types.ts';
import { isBusy, withWriteTransaction } from './database.ts';

/** Partitions assigned to each member id. */
export type Assignment = Readonly<Record<string, readonly TopicPartition[]>>;

/** The group's state as a member sees it. */
export interface GroupView {
  readonly generation: number;
  readonly state: 'stable' | 'rebalancing';
  readonly targetGeneration: number;
  readonly assignment: Assignment;
  /** The member's acknowledged generation, or null if the member is no longer in the group. */
  readonly memberJoinedGeneration: number | null;
}

interface GroupRow {
  generation: number;
  state: 'stable' | 'rebalancing';
  target_generation: number;
  rebalance_started_at: number;
  assignment: string;
}

interface MemberRow {
  member_id: string;
  topics: string;
  heartbeat_at: number;
  session_timeout_ms: number;
  joined_generation: number;
}

/** Group membership, rebalancing and committed offsets, shared by all processes. */
export class GroupCoordinator {
  readonly #db: DatabaseSync;
  readonly #clock: () => number;
  readonly #group: StatementSync;
  readonly #groupState: StatementSync;
  readonly #member: StatementSync;
  readonly #members: StatementSync;
  readonly #heartbeat: StatementSync;
  readonly #commit: StatementSync;
  readonly #committed: StatementSync;
  /** The connection's busy timeout (restored after {@link tryHeartbeat}). */
  readonly #busyTimeoutMs: number;

  constructor(db: DatabaseSync, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
    this.#busyTimeoutMs = Number((db.prepare('PRAGMA busy_timeout').get() as { timeout: number }).timeout);
    this.#group = db.prepare('SELECT * FROM groups WHERE group_id = ?');
    this.#groupState = db.prepare('SELECT generation, state FROM groups WHERE group_id = ?');
    this.#member = db.prepare('SELECT joined_generation FROM group_members WHERE group_id = ? AND member_id = ?');
    this.#members = db.prepare('SELECT * FROM group_members WHERE group_id = ? ORDER BY member_id');
    this.#heartbeat = db.prepare('UPDATE group_members SET heartbeat_at = ? WHERE group_id = ? AND member_id = ?');
    this.#commit = db.prepare(
      'INSERT INTO group_offsets (group_id, topic, partition, offset, committed_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (group_id, topic, partition) DO UPDATE SET offset = excluded.offset, committed_at = excluded.committed_at',
    );
    this.#committed = db.prepare('SELECT offset FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?');
  }

  /** Adds a member subscribed to `topics` and starts a rebalance. */
  join(groupId: string, memberId: string, topics: readonly string[], sessionTimeoutMs: number): void {
    withWriteTransaction(this.#db, () => {
      const target = this.#startRebalance(groupId);
      this.#db
        .prepare(
          'INSERT OR REPLACE INTO group_members (group_id, member_id, topics, heartbeat_at, session_timeout_ms, joined_generation) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(groupId, memberId, JSON.stringify(topics), this.#clock(), sessionTimeoutMs, target);
      this.#tryComplete(groupId);
    });
  }

  /** Removes a member (it closed) and starts a rebalance for the others. */
  leave(groupId: string, memberId: string): void {
    withWriteTransaction(this.#db, () => {
      const { changes } = this.#db.prepare('DELETE FROM group_members WHERE group_id = ? AND member_id = ?').run(groupId, memberId);
      if (Number(changes) > 0) {
        this.#startRebalance(groupId);
        this.#tryComplete(groupId);
      }
    });
  }

  /** What a member needs to know at a poll: generation, state, assignment, its own standing. */
  view(groupId: string, memberId: string): GroupView {
    const group = this.#group.get(groupId) as GroupRow | undefined;
    const member = this.#member.get(groupId, memberId) as { joined_generation: number } | undefined;
    return {
      generation: group?.generation ?? 0,
      state: group?.state ?? 'rebalancing',
      targetGeneration: group?.target_generation ?? 1,
      assignment: group === undefined ? {} : (JSON.parse(group.assignment) as Assignment),
      memberJoinedGeneration: member?.joined_generation ?? null,
    };
  }

  /**
   * True when the group is stable at `generation`. A member that took its partitions at that
   * generation then has nothing to do: any change of membership (a join, a leave, an expiry)
   * starts a rebalance, which moves the group off that state for good (generations only grow).
   * One small query instead of {@link view}'s two and its assignment parse: a poll's usual check.
   */
  stableAt(groupId: string, generation: number): boolean {
    const group = this.#groupState.get(groupId) as Pick<GroupRow, 'generation' | 'state'> | undefined;
    return group !== undefined && group.state === 'stable' && group.generation === generation;
  }

  /** The member gave up its partitions: acknowledge the target generation and try to finish. */
  acknowledge(groupId: string, memberId: string, targetGeneration: number): void {
    withWriteTransaction(this.#db, () => {
      this.#db
        .prepare('UPDATE group_members SET joined_generation = ?, heartbeat_at = ? WHERE group_id = ? AND member_id = ?')
        .run(targetGeneration, this.#clock(), groupId, memberId);
      this.#tryComplete(groupId);
    });
  }

  /**
   * Records that the member is alive, removes members whose session expired and moves a pending
   * rebalance on. Returns false if the member itself is no longer in the group.
   */
  heartbeat(groupId: string, memberId: string): boolean {
    const now = this.#clock();
    const { changes } = this.#heartbeat.run(now, groupId, memberId);
    const members = this.#members.all(groupId) as unknown as MemberRow[];
    const group = this.#group.get(groupId) as GroupRow | undefined;
    const expired = members.some((m) => m.heartbeat_at + m.session_timeout_ms < now);
    if (expired || group?.state === 'rebalancing') {
      withWriteTransaction(this.#db, () => this.#tryComplete(groupId));
    }
    return Number(changes) > 0;
  }

  /**
   * {@link heartbeat} if it can have the write lock at once; null (nothing done) when another
   * connection holds it, instead of waiting up to the busy timeout.
   */
  tryHeartbeat(groupId: string, memberId: string): boolean | null {
    this.#db.exec('PRAGMA busy_timeout = 0');
    try {
      return this.heartbeat(groupId, memberId);
    } catch (error) {
      if (isBusy(error)) return null;
      throw error;
    } finally {
      this.#db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`);
    }
  }

  /**
   * Commits offsets for a group. With a member and generation, the commit is fenced: it fails with
   * LOG_REBALANCE_IN_PROGRESS unless the group is still at that generation and the member in it.
   * Runs inside the caller's write transaction (the writer thread's: consumers commit through it).
   */
  commit(groupId: string, offsets: readonly TopicPartitionOffset[], fence: { memberId: string; generation: number } | null): void {
    if (fence !== null) this.#assertCurrent(groupId, fence.memberId, fence.generation);
    const now = this.#clock();
    for (const o of offsets) this.#commit.run(groupId, o.topic, o.partition, o.offset, now);
  }

  #assertCurrent(groupId: string, memberId: string, generation: number): void {
    const group = this.#group.get(groupId) as GroupRow | undefined;
    const member = this.#member.get(groupId, memberId);
    if (group === undefined || member === undefined || group.generation !== generation) {
      throw new SluiceError(
        ErrorCode.LOG_REBALANCE_IN_PROGRESS,
        `group '${groupId}' rebalanced (generation ${group?.generation ?? 'none'}, member held ${generation}): poll again to rejoin before committing`,
        { retriable: true, details: { groupId, generation } },
      );
    }
  }

  /** Committed offsets of a group (null where none). */
  committed(groupId: string, partitions: readonly TopicPartition[]): CommittedOffset[] {
    return partitions.map((tp) => {
      const row = this.#committed.get(groupId, tp.topic, tp.partition) as { offset: number } | undefined;
      return { topic: tp.topic, partition: tp.partition, offset: row?.offset ?? null };
    });
  }

  /** Moves the group to rebalancing (if stable) and returns the target generation. */
  #startRebalance(groupId: string): number {
    const now = this.#clock();
    const group = this.#group.get(groupId) as GroupRow | undefined;
    if (group === undefined) {
      this.#db
        .prepare('INSERT INTO groups (group_id, generation, state, target_generation, rebalance_started_at, assignment) VALUES (?, 0, ?, 1, ?, ?)')
        .run(groupId, 'rebalancing', now, '{}');
      return 1;
    }
    if (group.state === 'rebalancing') return group.target_generation;
    const target = group.generation + 1;
    this.#db
      .prepare('UPDATE groups SET state = ?, target_generation = ?, rebalance_started_at = ? WHERE group_id = ?')
      .run('rebalancing', target, now, groupId);
    return target;
  }

  /** Removes dead members; completes the rebalance when every live member acknowledged it. */
  #tryComplete(groupId: string): void {
    const now = this.#clock();
    const deleteMember = this.#db.prepare('DELETE FROM group_members WHERE group_id = ? AND member_id = ?');
    let members = this.#members.all(groupId) as unknown as MemberRow[];
    const expired = members.filter((m) => m.heartbeat_at + m.session_timeout_ms < now);
    if (expired.length > 0) {
      for (const m of expired) deleteMember.run(groupId, m.member_id);
      members = members.filter((m) => !expired.includes(m));
      this.#startRebalance(groupId);
    }
    const group = this.#group.get(groupId) as GroupRow | undefined;
    if (group === undefined || group.state !== 'rebalancing') return;
    const target = group.target_generation;
    const pending = members.filter((m) => m.joined_generation !== target);
    if (pending.length > 0) {
      const timeout = Math.max(...pending.map((m) => m.session_timeout_ms));
      if (now - group.rebalance_started_at <= timeout) return;
      for (const m of pending) deleteMember.run(groupId, m.member_id);
      members = members.filter((m) => !pending.includes(m));
    }
    const assignment = this.#assign(members);
    this.#db
      .prepare('UPDATE groups SET generation = ?, state = ?, assignment = ? WHERE group_id = ?')
      .run(target, 'stable', JSON.stringify(assignment), groupId);
  }

  /** Round-robin over members sorted by id and partitions sorted by topic and number. */
  #assign(members: readonly MemberRow[]): Record<string, TopicPartition[]> {
    const assignment: Record<string, TopicPartition[]> = {};
    const subscribers = new Map<string, string[]>();
    for (const m of members) {
      assignment[m.member_id] = [];
      for (const topic of JSON.parse(m.topics) as string[]) {
        const list = subscribers.get(topic) ?? [];
        list.push(m.member_id);
        subscribers.set(topic, list);
      }
    }
    const partitionCount = this.#db.prepare('SELECT partitions FROM topics WHERE name = ?');
    let turn = 0;
    for (const topic of [...subscribers.keys()].sort()) {
      const row = partitionCount.get(topic) as { partitions: number } | undefined;
      const owners = subscribers.get(topic)!;
      for (let p = 0; p < (row?.partitions ?? 0); p++) {
        assignment[owners[turn % owners.length]!]!.push({ topic, partition: p });
        turn++;
      }
    }
    return assignment;
  }
}
