/**
 * The codec contract of the log layer: how a typed key or value becomes the bytes of a record and
 * back, plus the shared helpers that build the typed errors every codec throws.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';

/** Turns values of type `T` into record bytes and back; `decode(encode(v))` equals `v`. */
export interface Codec<T> {
  /** Short stable name used in error messages (e.g. `telemetry`, `json`). */
  readonly name: string;
  /** Serialises `value`; throws CODEC_ENCODE when the value cannot be represented. */
  encode(value: T): Uint8Array;
  /** Parses `bytes`; throws CODEC_DECODE when they are not a valid encoding. */
  decode(bytes: Uint8Array): T;
}

/** The `T` of a `Codec<T>`. */
export type CodecValue<C> = C extends Codec<infer T> ? T : never;

/** Builds the CODEC_ENCODE error of codec `codec`; `path` names the offending field, if any. */
export function encodeError(codec: string, reason: string, path?: string, cause?: unknown): SluiceError {
  const where = path === undefined || path === '' ? '' : `${path}: `;
  return new SluiceError(ErrorCode.CODEC_ENCODE, `${codec} codec: cannot encode: ${where}${reason}`, {
    cause,
    details: path === undefined ? { codec } : { codec, path },
  });
}

/** Builds the CODEC_DECODE error of codec `codec`; `offset` is the byte where decoding failed. */
export function decodeError(codec: string, reason: string, offset?: number, cause?: unknown): SluiceError {
  const at = offset === undefined ? '' : ` at byte ${offset}`;
  return new SluiceError(ErrorCode.CODEC_DECODE, `${codec} codec: cannot decode: ${reason}${at}`, {
    cause,
    details: offset === undefined ? { codec } : { codec, offset },
  });
}

/** A short, safe description of any value for error messages (`NaN`, `"abc"`, `object`, `10n`). */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${String(value)}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      if (value instanceof Uint8Array) return `${value.constructor.name}(${value.byteLength})`;
      return 'an object';
  }
}
