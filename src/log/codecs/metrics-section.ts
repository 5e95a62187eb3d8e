/**
 * The metrics section of the telemetry format, laid out for fast decoding:
 *
 *   varint    n, the metric count
 *   n × 8     the values, float64 little-endian, in name order
 *   varint    byte length of the names block
 *   names     n × str (varint byte length, UTF-8), in the same order as the values
 *
 * Records of one kind of device repeat the same names block byte for byte, so the decoder keeps
 * recently seen blocks in a bounded cache (block-cache.ts) mapped to their parsed, checked name
 * lists: a hit costs one hash and one compare instead of parsing, decoding and de-duplicating each
 * name.
 */
import { type ByteReader, type ByteWriter, ReadFailure, StringCache, varintSize } from './binary.ts';
import { BlockCache } from './block-cache.ts';
import { propertyKey } from '../../util/property-key.ts';
import { describe, encodeError } from './codec.ts';
import { fieldPath } from './telemetry.ts';

const CODEC = 'telemetry';
const BLOCK_SLOTS = 256;
/** Names blocks longer than this are parsed every time. */
const MAX_CACHED_BLOCK = 256;

const nameCache = new StringCache(1024, 32);

/**
 * The names of the last record encoded and, once a second record in a row had them, their block
 * (with its varint length): records of one kind of device repeat their names, so the block is
 * copied instead of written name by name. Records of alternating kinds cost a compare each.
 */
let lastNames: readonly string[] = [];
let lastBlock: Uint8Array | null = null;

/**
 * Writes the metrics section (see above); throws CODEC_ENCODE naming the bad metric. The values
 * of a plain object are read in a for-in loop (V8 then loads each through the object's enum cache
 * instead of a keyed lookup by name: ~50 ns less a record) and written after one byte kept for
 * the count, moved along in the rare case the count needs more. for-in would also walk inherited
 * enumerable properties, so other objects take their own keys (Object.keys) instead.
 */
export function writeMetrics(w: ByteWriter, metrics: Readonly<Record<string, unknown>>): void {
  const proto: unknown = Object.getPrototypeOf(metrics);
  const countAt = w.pos - w.start; // relative: a growing writer moves the record
  w.ensure(1);
  w.pos += 1;
  const last = lastNames;
  let same = true;
  let n = 0;
  if (proto === Object.prototype || proto === null) {
    for (const name in metrics) {
      writeValue(w, name, metrics[name]);
      if (same && last[n] !== name) same = false;
      n++;
    }
  } else {
    for (const name of Object.keys(metrics)) {
      writeValue(w, name, metrics[name]);
      if (same && last[n] !== name) same = false;
      n++;
    }
  }
  writeCount(w, countAt, n);
  same &&= n === last.length && n > 0;
  if (same && lastBlock !== null) {
    w.ensure(lastBlock.length);
    w.buf.set(lastBlock, w.pos);
    w.pos += lastBlock.length;
    return;
  }
  const names = same ? last : Object.keys(metrics);
  const lengthAt = w.pos - w.start;
  writeNames(w, names);
  lastNames = names;
  lastBlock = same ? w.buf.slice(w.start + lengthAt, w.pos) : null;
}

function writeValue(w: ByteWriter, name: string, v: unknown): void {
  if (typeof v !== 'number') throw encodeError(CODEC, `must be a number, got ${describe(v)}`, fieldPath('metrics', name));
  w.ensure(8);
  w.f64(v);
}

/** Writes the metric count `n` into the byte kept for it at `countAt` (relative), moving the values when it needs more. */
function writeCount(w: ByteWriter, countAt: number, n: number): void {
  if (n < 0x80) {
    w.buf[w.start + countAt] = n;
    return;
  }
  const extra = varintSize(n) - 1;
  w.ensure(extra);
  const from = w.start + countAt + 1;
  w.buf.copyWithin(from + extra, from, w.pos);
  const end = w.pos + extra;
  w.pos = w.start + countAt;
  w.varint(n);
  w.pos = end;
}

/** Writes the names block: its varint byte length, then the names. */
function writeNames(w: ByteWriter, names: readonly string[]): void {
  const n = names.length;
  const lengthAt = w.pos - w.start; // relative: a growing writer moves the record
  w.pos += 1; // room for the names block length, assumed < 128 (moved below otherwise)
  const blockAt = w.pos - w.start;
  for (let i = 0; i < n; i++) {
    const name = names[i] as string;
    if (!w.string(name)) throw encodeError(CODEC, 'name is not valid Unicode (lone surrogate)', fieldPath('metrics', name));
  }
  const blockLength = w.pos - w.start - blockAt;
  if (blockLength < 0x80) {
    w.buf[w.start + lengthAt] = blockLength;
    return;
  }
  const extra = varintSize(blockLength) - 1;
  w.ensure(extra);
  const from = w.start + blockAt;
  w.buf.copyWithin(from + extra, from, w.pos);
  w.pos = w.start + lengthAt;
  w.varint(blockLength);
  w.pos += blockLength;
}

/** Reads the metrics section; throws ReadFailure on anything malformed. */
export function readMetrics(r: ByteReader): Record<string, number> {
  const countAt = r.pos;
  const n = r.varint('metric count');
  if (n > (r.end - r.pos) / 9) {
    throw new ReadFailure(`truncated: ${n} metrics need at least ${n * 9} bytes, ${r.end - r.pos} left`, countAt);
  }
  const valuesAt = r.pos;
  r.pos += 8 * n;
  const lengthAt = r.pos;
  const blockLength = r.varint('metric names length');
  if (blockLength > r.end - r.pos) {
    throw new ReadFailure(`truncated: metric names need ${blockLength} bytes, ${r.end - r.pos} left`, lengthAt);
  }
  const names = blockLength <= MAX_CACHED_BLOCK ? cachedNames(r, n, blockLength) : parseNames(r, n, blockLength);
  return names.plain ? plainMetrics(names.list, r.view, valuesAt) : anyMetrics(names.list, r.view, valuesAt);
}

/** A parsed names block: the names, and whether none is `__proto__` (so plain stores can set them all). */
interface MetricNames {
  readonly list: readonly string[];
  readonly plain: boolean;
}

/**
 * The metrics object, by plain stores. The first eight are written by a store site each: records
 * of one kind of device put the same name at the same position, so each site sees one name and
 * one object shape and stays monomorphic (~3× faster than one site seeing every name).
 */
function plainMetrics(names: readonly string[], view: DataView, at: number): Record<string, number> {
  const n = names.length;
  const m: Record<string, number> = {};
  if (n > 0) m[names[0]!] = view.getFloat64(at, true);
  if (n > 1) m[names[1]!] = view.getFloat64(at + 8, true);
  if (n > 2) m[names[2]!] = view.getFloat64(at + 16, true);
  if (n > 3) m[names[3]!] = view.getFloat64(at + 24, true);
  if (n > 4) m[names[4]!] = view.getFloat64(at + 32, true);
  if (n > 5) m[names[5]!] = view.getFloat64(at + 40, true);
  if (n > 6) m[names[6]!] = view.getFloat64(at + 48, true);
  if (n > 7) m[names[7]!] = view.getFloat64(at + 56, true);
  for (let i = 8; i < n; i++) m[names[i]!] = view.getFloat64(at + 8 * i, true);
  return m;
}

/** The metrics object when a name is `__proto__` (defined as an own property, not the prototype). */
function anyMetrics(names: readonly string[], view: DataView, at: number): Record<string, number> {
  const m: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const v = view.getFloat64(at + 8 * i, true);
    if (name === '__proto__') Object.defineProperty(m, name, { value: v, enumerable: true, writable: true, configurable: true });
    else m[name] = v;
  }
  return m;
}

const blocks = new BlockCache<MetricNames>(BLOCK_SLOTS, MAX_CACHED_BLOCK);

/** The names of the block at `r.pos`, from the cache when the same bytes were seen recently. */
function cachedNames(r: ByteReader, n: number, length: number): MetricNames {
  const start = r.pos;
  const slot = blocks.slot(r, start, length);
  const cached = blocks.get(slot, r, start, length);
  if (cached !== undefined && cached.list.length === n) {
    r.pos = start + length;
    return cached;
  }
  const names = parseNames(r, n, length);
  blocks.set(slot, r, start, length, names);
  return names;
}

/** Parses and checks `n` names filling exactly `length` bytes at `r.pos`. */
function parseNames(r: ByteReader, n: number, length: number): MetricNames {
  const start = r.pos;
  const end = r.end;
  r.end = start + length; // names must not run past their block
  const names: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const name = r.string('metric name', nameCache);
    if (seen.has(name)) throw new ReadFailure(`duplicate metric name ${JSON.stringify(name)}`, at);
    seen.add(name);
    names.push(propertyKey(name));
  }
  if (r.pos !== r.end) throw new ReadFailure(`metric names take ${r.pos - start} bytes, their block ${length}`, r.pos);
  r.end = end;
  return { list: names, plain: !seen.has('__proto__') };
}
