/**
 * `telemetryCodec`: the compact binary encoding of a {@link Telemetry} record.
 *
 * Format version 1 (all multi-byte numbers little-endian; "varint" is unsigned LEB128, at most 8
 * bytes, canonical: no trailing 0x80 0x00 padding; "str" is a varint byte length then that many
 * bytes of strict UTF-8):
 *
 *   offset  size      field
 *   0       1         magic 0x54 ('T')
 *   1       1         format version, 1
 *   2       1         flags: bit 0 = seq present, bit 1 = tags present; bits 2-7 must be 0
 *   3       8         ts: float64
 *   11      str       deviceId
 *   …       varint    seq                                  (only when flag bit 0)
 *   …       metrics   varint count n, n × float64 values, varint byte length of the names
 *                     block, then the n names (str), in the order of the values
 *   …       varint    tag count m, then m × { str name, str value }   (only when flag bit 1)
 *
 * The record ends exactly at the end of the input. A typical record (12-character device id, seq,
 * 6-8 metrics with 2-9 character names) takes ~130 bytes (the same record as JSON: ~175).
 *
 * Numbers are IEEE-754 doubles, so every number round-trips bit for bit, -0 included (NaN comes
 * back as NaN; the contract in validateTelemetry forbids it anyway). The codec checks only what
 * it needs to encode (types, seq a non-negative safe integer, valid Unicode); the data contract
 * (finite values, limits, skew) is `validateTelemetry`, see `validatedTelemetryCodec`. A field
 * that is `undefined` (seq, tags) is treated as absent. Decoding rejects, with CODEC_DECODE and
 * the byte offset: a wrong magic byte, another version, unknown flags, truncation anywhere,
 * non-canonical or oversized varints, invalid UTF-8, duplicate names and trailing bytes.
 *
 * Speed: encoding writes records back to back into a 64 KiB slab and returns views of it (no
 * allocation per record but the view; records over 4 KiB get their own buffer); short ASCII
 * strings are copied char by char. Decoding reads through a reusable scratch copy (no DataView per
 * record); values and names are stored apart so that a repeated names block is recognised whole
 * (see metrics-section.ts); device ids and tag strings go through bounded set-associative caches
 * (device ids through the one the string codec uses for keys: binary.ts `idStrings`). The caches
 * are fixed-size (about 1.3 MiB in all, touched as used) and module-wide.
 */
import { type Codec, decodeError, describe, encodeError } from './codec.ts';
import { ByteReader, ByteWriter, idStrings, ReadFailure, StringCache } from './binary.ts';
import { BlockCache } from './block-cache.ts';
import { isRecord } from '../../util/is-record.ts';
import { type Telemetry, type TelemetryValidationOptions, fieldPath, telemetryValidator } from './telemetry.ts';
import { withValidation } from './validation.ts';
import { readMetrics, writeMetrics } from './metrics-section.ts';

const NAME = 'telemetry';
/** First byte of every telemetry record. */
export const TELEMETRY_MAGIC = 0x54;
/** The format version this build writes and reads. */
export const TELEMETRY_FORMAT_VERSION = 1;
const FLAG_SEQ = 1;
const FLAG_TAGS = 2;
/** Smallest encoded tag (two empty strings). */
const MIN_TAG_BYTES = 2;

const sharedWriter = new ByteWriter();
const reader = new ByteReader();
const tagCache = new StringCache(1024, 32);
/** Longest tags section looked up whole (see readTags). */
const MAX_CACHED_TAGS = 128;
const tagBlocks = new BlockCache<Readonly<Record<string, string>>>(256, MAX_CACHED_TAGS);

/** The binary telemetry codec (format above). */
export const telemetryCodec: Codec<Telemetry> = {
  name: NAME,
  encode(value) {
    // A getter on the value could call encode again: give such a nested call its own writer.
    const w = sharedWriter.busy ? new ByteWriter() : sharedWriter;
    w.busy = true;
    try {
      writeTelemetry(w, value);
      return w.finish();
    } catch (error) {
      w.reset();
      throw error;
    } finally {
      w.busy = false;
    }
  },
  decode(bytes) {
    if (!(bytes instanceof Uint8Array)) throw decodeError(NAME, `expected a Uint8Array, got ${describe(bytes)}`);
    reader.reset(bytes);
    try {
      return readTelemetry(reader);
    } catch (error) {
      if (error instanceof ReadFailure) throw decodeError(NAME, error.reason, error.offset - reader.base);
      throw error;
    }
  },
};

/** `telemetryCodec` that also enforces the data contract (`validateTelemetry`) both ways. */
export function validatedTelemetryCodec(options: TelemetryValidationOptions = {}): Codec<Telemetry> {
  return withValidation(telemetryCodec, telemetryValidator(options));
}

function writeTelemetry(w: ByteWriter, value: Telemetry): void {
  if (!isRecord(value)) throw encodeError(NAME, `expected a telemetry record object, got ${describe(value)}`);
  const { deviceId, ts, metrics, seq, tags } = value;
  if (typeof deviceId !== 'string') throw encodeError(NAME, `must be a string, got ${describe(deviceId)}`, 'deviceId');
  if (typeof ts !== 'number') throw encodeError(NAME, `must be a number, got ${describe(ts)}`, 'ts');
  if (seq !== undefined && !(Number.isSafeInteger(seq) && seq >= 0)) {
    throw encodeError(NAME, `must be a non-negative safe integer, got ${describe(seq)}`, 'seq');
  }
  if (!isRecord(metrics)) throw encodeError(NAME, `must be an object, got ${describe(metrics)}`, 'metrics');
  if (tags !== undefined && !isRecord(tags)) throw encodeError(NAME, `must be an object, got ${describe(tags)}`, 'tags');

  w.ensure(11);
  w.u8(TELEMETRY_MAGIC);
  w.u8(TELEMETRY_FORMAT_VERSION);
  w.u8((seq === undefined ? 0 : FLAG_SEQ) | (tags === undefined ? 0 : FLAG_TAGS));
  w.f64(ts);
  if (!w.string(deviceId)) throw encodeError(NAME, 'is not valid Unicode (lone surrogate)', 'deviceId');
  if (seq !== undefined) {
    w.ensure(8);
    w.varint(seq);
  }
  writeMetrics(w, metrics);
  if (tags !== undefined) writeTags(w, tags);
}

function writeTags(w: ByteWriter, tags: Readonly<Record<string, string>>): void {
  const keys = Object.keys(tags);
  w.ensure(8);
  w.varint(keys.length);
  for (const key of keys) {
    const v = tags[key];
    if (typeof v !== 'string') throw encodeError(NAME, `must be a string, got ${describe(v)}`, fieldPath('tags', key));
    if (!w.string(key) || !w.string(v)) throw encodeError(NAME, 'is not valid Unicode (lone surrogate)', fieldPath('tags', key));
  }
}

function readTelemetry(r: ByteReader): Telemetry {
  const at = r.pos;
  const magic = r.u8('magic byte');
  if (magic !== TELEMETRY_MAGIC) throw new ReadFailure(`bad magic byte ${hex(magic)} (expected ${hex(TELEMETRY_MAGIC)}): not a telemetry record`, at);
  const version = r.u8('version');
  if (version !== TELEMETRY_FORMAT_VERSION) {
    throw new ReadFailure(`unsupported format version ${version} (this build reads ${TELEMETRY_FORMAT_VERSION})`, at + 1);
  }
  const flags = r.u8('flags');
  if ((flags & ~(FLAG_SEQ | FLAG_TAGS)) !== 0) throw new ReadFailure(`unknown flag bits in ${hex(flags)}`, at + 2);
  const ts = r.f64('ts');
  const deviceId = r.string('deviceId', idStrings);
  const seq = (flags & FLAG_SEQ) === 0 ? undefined : r.varint('seq');
  const metrics = readMetrics(r);
  const tags = (flags & FLAG_TAGS) === 0 ? undefined : readTags(r);
  if (r.pos !== r.end) throw new ReadFailure(`${r.end - r.pos} unexpected bytes after the record`, r.pos);
  if (seq === undefined) return tags === undefined ? { deviceId, ts, metrics } : { deviceId, ts, metrics, tags };
  return tags === undefined ? { deviceId, ts, seq, metrics } : { deviceId, ts, seq, metrics, tags };
}

/**
 * Reads the tags section, which ends the record: sections of up to {@link MAX_CACHED_TAGS} bytes
 * are looked up whole in `tagBlocks`; a hit returns a copy of the object parsed from the same
 * bytes before (a spread copy of a same-shaped object is much cheaper than building one).
 */
function readTags(r: ByteReader): Record<string, string> {
  const start = r.pos;
  const length = r.end - start;
  if (length > MAX_CACHED_TAGS) return parseTags(r);
  const slot = tagBlocks.slot(r, start, length);
  const cached = tagBlocks.get(slot, r, start, length);
  if (cached !== undefined) {
    r.pos = r.end;
    return { ...cached };
  }
  const tags = parseTags(r);
  // Only a section that is the whole rest of the record is valid (otherwise readTelemetry throws).
  if (r.pos === r.end) tagBlocks.set(slot, r, start, length, { ...tags });
  return tags;
}

function parseTags(r: ByteReader): Record<string, string> {
  const countAt = r.pos;
  const m = r.varint('tag count');
  if (m > (r.end - r.pos) / MIN_TAG_BYTES) {
    throw new ReadFailure(`truncated: ${m} tags need at least ${m * MIN_TAG_BYTES} bytes, ${r.end - r.pos} left`, countAt);
  }
  const tags: Record<string, string> = {};
  for (let i = 0; i < m; i++) {
    const keyAt = r.pos;
    const key = r.string('tag name', tagCache);
    const v = r.string('tag value', tagCache);
    if (Object.hasOwn(tags, key)) throw new ReadFailure(`duplicate tag name ${JSON.stringify(key)}`, keyAt);
    if (key === '__proto__') Object.defineProperty(tags, key, { value: v, enumerable: true, writable: true, configurable: true });
    else tags[key] = v;
  }
  return tags;
}

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}
