/**
 * Which part of the telemetry topic a training run reads: a half-open range by record timestamp
 * ([from, to), ms since the epoch, found with `seek({ timestamp })`), the last `ms` before the run
 * starts (for scheduled runs: a sliding window), or by offset ([from, to), one offset for every
 * partition or one per partition). Unset bounds are the start of each partition and its end when
 * the run starts. Also the parsers of the command line's bounds and durations.
 */
import { ErrorCode, SluiceError } from '../errors.ts';

/** One offset for every partition, or an offset per partition (partition number → offset). */
export type OffsetBound = number | Readonly<Record<number, number>>;

/** A range with fixed bounds: by record timestamp or by offset. */
export type ResolvedRange =
  | { readonly by: 'time'; readonly from?: number; readonly to?: number }
  | { readonly by: 'offset'; readonly from?: OffsetBound; readonly to?: OffsetBound };

/** A range of the telemetry topic (see the file comment). */
export type TrainingRange = ResolvedRange | { readonly by: 'last'; readonly ms: number };

/** The fixed range of a run that starts at `now` (`last` becomes [now − ms, end)). */
export function resolveRange(range: TrainingRange, now: number): ResolvedRange {
  return range.by === 'last' ? { by: 'time', from: Math.max(0, now - range.ms) } : range;
}

/** The whole topic as it is when the run starts. */
export const WHOLE_TOPIC: TrainingRange = { by: 'offset' };

/**
 * Checks a range: integer bounds ≥ 0, `from` not after `to` (for offsets: per partition, where both
 * name it). TRAINING_INVALID_RANGE naming the bound and the reason.
 */
export function checkRange(range: TrainingRange): TrainingRange {
  if (range === null || typeof range !== 'object' || !['time', 'offset', 'last'].includes(range.by)) {
    throw invalidRange(`range must be { by: 'time' | 'offset', from?, to? } or { by: 'last', ms }, got ${JSON.stringify(range)}`);
  }
  if (range.by === 'last') {
    if (!Number.isSafeInteger(range.ms) || range.ms < 1) throw invalidRange(`range ms must be an integer ≥ 1, got ${String(range.ms)}`);
    return range;
  }
  if (range.by === 'time') {
    for (const key of ['from', 'to'] as const) {
      const v = range[key];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw invalidRange(`range ${key} must be ms since the epoch (an integer ≥ 0), got ${String(v)}`);
    }
    if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
      throw invalidRange(`range from ${formatTime(range.from)} is after to ${formatTime(range.to)}`);
    }
    return range;
  }
  checkOffsetBound(range.from, 'from');
  checkOffsetBound(range.to, 'to');
  for (const partition of partitionsNamed(range.from, range.to)) {
    const from = offsetFor(range.from, partition);
    const to = offsetFor(range.to, partition);
    if (from !== undefined && to !== undefined && from > to) {
      throw invalidRange(`range from offset ${from} is after to offset ${to}${typeof range.from === 'number' && typeof range.to === 'number' ? '' : ` (partition ${partition})`}`);
    }
  }
  return range;
}

/** The bound's offset for `partition`, or undefined when the bound does not name it. */
export function offsetFor(bound: OffsetBound | undefined, partition: number): number | undefined {
  if (bound === undefined) return undefined;
  return typeof bound === 'number' ? bound : bound[partition];
}

/** A time bound as a person reads it: ISO 8601 in UTC. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Describes a range for messages: `2026-01-01T00:00:00.000Z → 2026-01-02T00:00:00.000Z`, `offsets 100 → end`. */
export function describeRange(range: TrainingRange): string {
  if (range.by === 'last') return `the last ${formatDuration(range.ms)}`;
  if (range.by === 'time') {
    return `${range.from === undefined ? 'start' : formatTime(range.from)} → ${range.to === undefined ? 'end' : formatTime(range.to)}`;
  }
  const show = (b: OffsetBound | undefined, none: string): string =>
    b === undefined ? none : typeof b === 'number' ? String(b) : Object.entries(b).map(([p, o]) => `p${p}:${o}`).join(',');
  return `offsets ${show(range.from, 'start')} → ${show(range.to, 'end')}`;
}

/**
 * Parses a time bound: an ISO 8601 date or date-time (UTC unless it names a zone) or an integer of
 * ms since the epoch. INVALID_ARGUMENT naming `what` otherwise.
 */
export function parseTimeBound(text: string, what: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (Number.isSafeInteger(n)) return n;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const zoned = /[zZ]|[+-]\d{2}:?\d{2}$/.test(s.slice(10)) || s.length === 10 ? s : `${s}Z`;
    const n = Date.parse(zoned);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${what}: ${JSON.stringify(text)} is not an ISO 8601 date-time or ms since the epoch`, { details: { path: what } });
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration in its largest whole unit: `7d`, `90m`, `1500ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  return `${ms}ms`;
}

/** Parses a duration such as `500ms`, `30s`, `10m`, `1.5h`, `7d` (a bare number is ms); INVALID_ARGUMENT naming `what`. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = m === null ? Number.NaN : Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${what}: ${JSON.stringify(text)} is not a duration such as 30s, 10m, 2h or 7d`, { details: { path: what } });
  }
  return ms;
}

/** Parses an offset bound: `N` (every partition) or `P=N,P=N` (per partition); INVALID_ARGUMENT naming `what`. */
export function parseOffsetBound(text: string, what: string): OffsetBound {
  const s = text.trim();
  const bad = (): never => {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${what}: ${JSON.stringify(text)} is not an offset (N) or offsets per partition (P=N,P=N)`, { details: { path: what } });
  };
  if (/^\d+$/.test(s)) return Number.isSafeInteger(Number(s)) ? Number(s) : bad();
  const out: Record<number, number> = {};
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)\s*=\s*(\d+)\s*$/.exec(part);
    if (m === null) return bad();
    const p = Number(m[1]);
    const o = Number(m[2]);
    if (!Number.isSafeInteger(o) || p in out) return bad();
    out[p] = o;
  }
  return out;
}

function checkOffsetBound(bound: OffsetBound | undefined, key: string): void {
  if (bound === undefined) return;
  const entries = typeof bound === 'number' ? [['*', bound] as const] : Object.entries(bound);
  if (typeof bound !== 'number' && (bound === null || typeof bound !== 'object' || entries.length === 0)) {
    throw invalidRange(`range ${key} must be an offset or a non-empty map of partition → offset`);
  }
  for (const [p, o] of entries) {
    if (p !== '*' && !/^\d+$/.test(p)) throw invalidRange(`range ${key}: ${JSON.stringify(p)} is not a partition number`);
    if (!Number.isSafeInteger(o) || (o as number) < 0) throw invalidRange(`range ${key} offset must be an integer ≥ 0, got ${String(o)}${p === '*' ? '' : ` (partition ${p})`}`);
  }
}

function partitionsNamed(...bounds: (OffsetBound | undefined)[]): number[] {
  const out = new Set<number>();
  let anyNumber = false;
  for (const b of bounds) {
    if (typeof b === 'number') anyNumber = true;
    else if (b !== undefined) for (const p of Object.keys(b)) out.add(Number(p));
  }
  if (anyNumber && out.size === 0) out.add(0);
  return [...out];
}

function invalidRange(message: string): SluiceError {
  return new SluiceError(ErrorCode.TRAINING_INVALID_RANGE, message);
}
