/**
 * The processor of windowed `count()`, `reduce()` and `aggregate()`. Per record (after the task
 * has moved stream time to include it):
 * 1. close every window whose close time has come (close.ts): its final result goes to the
 *    `<node>-final` child (what `suppress(untilWindowCloses())` reads) and it leaves the store;
 * 2. apply the record to its windows (time, sliding or session rules below) and send each updated
 *    window to the `<node>-updates` child (what `toStream()` reads), keyed by (key, start, end),
 *    with the window's largest record timestamp as event time;
 * 3. a LATE record (close.ts) goes to the `<node>-late` child (`lateRecords()`) with the header
 *    `sluice.window.late` = `all` (it updated nothing) or `partial` (a hopping record that missed
 *    some of its windows), and is counted in the task's `lateRecords` metric. Never dropped silently.
 *
 * Sliding windows follow Kafka Streams' KStreamSlidingWindowAggregate (KIP-450): from the windows
 * whose start is in [ts - 2d, ts + 1] it updates those containing ts, creates the record's left
 * window [ts - d, ts] from the latest window ending before ts (when that window's newest record is
 * within d of ts; otherwise from the record alone), creates the record's right window
 * [ts + 1, ts + 1 + d] from the window that contains ts and holds later records, and creates the
 * previous record's right window when ts falls in it.
 * Sessions: the sessions of the key overlapping [ts - gap, ts + gap] are merged with the record
 * (aggregates combined with the merger, in start order) into one session. Every session the merge
 * replaces — one that is merged with another, or one the record extends (its bounds change) — is
 * retracted, as Kafka Streams does: it leaves the store (a changelog tombstone, so a restore does
 * not bring it back) and the update stream gets, before the merged session's update, a delete for
 * its windowed key (value null, header `sluice.tombstone`, see record.ts; event time: that
 * session's end). A record inside a session without changing its bounds only updates it.
 * Suppression never emits a retracted session: it is gone before it could close.
 */
import type { Processor } from '../processor/api.ts';
import { eachInOrder, type MaybePromise } from '../processor/maybe-async.ts';
import type { NodeContext } from '../processor/node.ts';
import { NO_HEADERS, TOMBSTONE_HEADERS, type RecordOrigin, type StreamRecord } from '../record.ts';
import type { AnyRecord } from '../topology/nodes.ts';
import { closeAt } from './close.ts';
import type { InMemoryWindowStore, WindowEntry } from './store.ts';
import type { Windowed, Windows } from './windows.ts';

/** Header of records on a late-record stream: `all` or `partial`. */
export const LATE_HEADER = 'sluice.window.late';

const LATE_ALL = new TextEncoder().encode('all');
const LATE_PARTIAL = new TextEncoder().encode('partial');

/** What a windowed aggregation computes. */
export interface WindowAggregation<K, V, A> {
  readonly node: string;
  readonly store: string;
  readonly windows: Windows;
  /** The aggregate of a window holding only `record`. */
  readonly first: (record: StreamRecord<K, V>) => A;
  readonly adder: (aggregate: A, value: V, record: StreamRecord<K, V>) => A;
  /** Combines two sessions' aggregates (session windows only); `record` is the one merging them. */
  readonly merger: ((left: A, right: A, record: StreamRecord<K, V>) => A) | null;
}

/**
 * What one call of `process()` emits, in order, each to one child: kept in two arrays reused from
 * call to call (no array per record; the usual call emits one update).
 */
class Outbox {
  readonly #children: string[] = [];
  readonly #records: (AnyRecord | undefined)[] = [];
  #size = 0;

  add(child: string, record: AnyRecord): void {
    this.#children[this.#size] = child;
    this.#records[this.#size] = record;
    this.#size++;
  }

  /** Empties the box without forwarding (what a failed call left). */
  clear(): void {
    for (let i = 0; i < this.#size; i++) this.#records[i] = undefined;
    this.#size = 0;
  }

  /** Forwards what was added, in order, and empties the box. */
  forward(ctx: NodeContext): MaybePromise {
    const n = this.#size;
    this.#size = 0;
    if (n === 0) return undefined;
    if (n === 1) {
      const record = this.#records[0]!;
      this.#records[0] = undefined;
      return ctx.forwardTo(this.#children[0]!, record);
    }
    const list: [string, AnyRecord][] = [];
    for (let i = 0; i < n; i++) {
      list.push([this.#children[i]!, this.#records[i]!]);
      this.#records[i] = undefined;
    }
    return eachInOrder(list, ([child, r]) => ctx.forwardTo(child, r));
  }
}

/** The processor supplier of a windowed aggregation node. */
export function windowAggregateProcessor<K, V, A>(spec: WindowAggregation<K, V, A>): () => Processor<K, V, Windowed<K>, A> {
  const { windows, first, adder } = spec;
  const updates = `${spec.node}-updates`;
  const finals = `${spec.node}-final`;
  const late = `${spec.node}-late`;
  return () => {
    let ctx: NodeContext;
    let store: InMemoryWindowStore<K, A>;
    const out = new Outbox();
    let origin: RecordOrigin;

    const result = (e: WindowEntry<K, A>): AnyRecord => ({ key: e.windowed, value: e.agg, timestamp: e.maxTs, headers: NO_HEADERS, origin });
    const update = (e: WindowEntry<K, A>): void => {
      out.add(updates, result(e));
    };
    const retract = (e: WindowEntry<K, A>): void => {
      store.remove(e);
      out.add(updates, { key: e.windowed, value: null, timestamp: e.maxTs, headers: TOMBSTONE_HEADERS, origin });
    };
    const lateRecord = (record: StreamRecord<K, V>, partial: boolean): void => {
      ctx.countLateRecord();
      out.add(late, { ...(record as AnyRecord), headers: { ...record.headers, [LATE_HEADER]: partial ? LATE_PARTIAL : LATE_ALL } });
    };

    const timeWindows = (record: StreamRecord<K, V>, now: number): void => {
      if (windows.kind !== 'time') return;
      const ts = record.timestamp;
      let missed = 0;
      let count = 0;
      for (let start = windows.firstStartFor(ts); start <= ts; start += windows.advanceMs) {
        count++;
        const end = start + windows.sizeMs;
        if (end + windows.graceMs <= now) {
          missed++;
          continue;
        }
        const e = store.fetch(record.key, start);
        if (e === undefined) update(store.putWindow(record.key, start, end, first(record), ts));
        else update(store.updateWindow(e, adder(e.agg, record.value, record), Math.max(e.maxTs, ts)));
      }
      if (missed > 0) lateRecord(record, missed < count);
    };

    const slidingWindows = (record: StreamRecord<K, V>, now: number): void => {
      if (windows.kind !== 'sliding') return;
      const ts = record.timestamp;
      const d = windows.timeDifferenceMs;
      if (ts + 1 + windows.graceMs <= now) {
        lateRecord(record, false);
        return;
      }
      let leftAgg: A | undefined;
      let previous: number | undefined;
      let right: { agg: A; maxTs: number } | undefined;
      let leftExists = false;
      let rightExists = false;
      const starts = new Set<number>();
      for (const e of store.range(record.key, ts - 2 * d, ts + 1)) {
        starts.add(e.start);
        if (e.end < ts) {
          leftAgg = e.agg;
          previous = e.maxTs;
        } else if (e.end === ts) {
          leftExists = true;
          if (e.maxTs < ts) previous = e.maxTs;
          update(store.putWindow(record.key, e.start, e.end, adder(e.agg, record.value, record), Math.max(e.maxTs, ts)));
        } else if (e.start <= ts) {
          right = { agg: e.agg, maxTs: e.maxTs };
          update(store.putWindow(record.key, e.start, e.end, adder(e.agg, record.value, record), Math.max(e.maxTs, ts)));
        } else {
          rightExists = true; // e.start === ts + 1
        }
      }
      if (!leftExists) {
        const agg = leftAgg !== undefined && previous !== undefined && previous >= ts - d ? adder(leftAgg, record.value, record) : first(record);
        update(store.putWindow(record.key, ts - d, ts, agg, ts));
      }
      if (!rightExists && right !== undefined && right.maxTs > ts) {
        update(store.putWindow(record.key, ts + 1, ts + 1 + d, right.agg, right.maxTs));
      }
      if (previous !== undefined) {
        const start = previous + 1;
        if (!starts.has(start) && start + d >= ts) {
          update(store.putWindow(record.key, start, start + d, first(record), ts));
        }
      }
    };

    const sessionWindows = (record: StreamRecord<K, V>, now: number): void => {
      if (windows.kind !== 'session') return;
      const ts = record.timestamp;
      const gap = windows.gapMs;
      const sessions = store.overlapping(record.key, ts - gap, ts + gap);
      let start = ts;
      let end = ts;
      let maxTs = ts;
      for (const s of sessions) {
        if (s.start < start) start = s.start;
        if (s.end > end) end = s.end;
        if (s.maxTs > maxTs) maxTs = s.maxTs;
      }
      if (end + windows.graceMs < now) {
        lateRecord(record, false);
        return;
      }
      let agg: A;
      if (sessions.length === 0) {
        agg = first(record);
      } else {
        agg = sessions[0]!.agg;
        for (let i = 1; i < sessions.length; i++) agg = spec.merger!(agg, sessions[i]!.agg, record);
        agg = adder(agg, record.value, record);
      }
      for (const s of sessions) if (s.start !== start || s.end !== end) retract(s);
      update(store.putWindow(record.key, start, end, agg, maxTs));
    };

    const apply = windows.kind === 'time' ? timeWindows : windows.kind === 'sliding' ? slidingWindows : sessionWindows;
    const onClose = (e: WindowEntry<K, A>): void => {
      out.add(finals, result(e));
    };

    return {
      init(context) {
        ctx = context as NodeContext;
        store = context.getStore(spec.store) as unknown as InMemoryWindowStore<K, A>;
        store.setRetention((end) => closeAt(windows, end), windows.kind === 'sliding' ? windows.timeDifferenceMs : 0);
      },
      process(record): MaybePromise {
        if (record.key === null || record.key === undefined) throw new Error(`cannot aggregate a record with a null key into window store '${spec.store}'`);
        origin = record.origin;
        out.clear();
        const now = Math.max(ctx.streamTime(), store.observedTime);
        store.expire(now, onClose);
        apply(record, now);
        return out.forward(ctx);
      },
    };
  };
}
