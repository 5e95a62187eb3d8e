/**
 * UTF-8 JSON codec that refuses values JSON would silently change, so that `decode(encode(v))`
 * deep-equals `v` for every value it accepts.
 */
import { type Codec, decodeError, describe, encodeError } from './codec.ts';
import { invalidUtf8Offset } from './basic.ts';
import { utf8Decode, utf8Encode } from './utf8.ts';

/** Options of {@link jsonCodec}. */
export interface JsonCodecOptions {
  /** Name used in error messages. Default `json`. */
  readonly name?: string;
}

/**
 * A codec of JSON-representable values. Encoding rejects (CODEC_ENCODE, naming the path) what
 * JSON.stringify would drop or alter: `undefined`, functions and symbols (anywhere), NaN and
 * ±Infinity, bigints, cycles, and class instances without `toJSON` (Map, Set, typed arrays…).
 * Objects with `toJSON` (e.g. Date) are trusted. Decoding rejects invalid UTF-8 and invalid JSON
 * (CODEC_DECODE). No check is made that the decoded value is a `T`: wrap with `withValidation`.
 */
export function jsonCodec<T>(options: JsonCodecOptions = {}): Codec<T> {
  const name = options.name ?? 'json';
  return {
    name,
    encode(value) {
      const problem = findUnrepresentable(value, '', new Set());
      if (problem !== undefined) throw encodeError(name, problem.reason, problem.path);
      const bytes = utf8Encode(JSON.stringify(value));
      if (bytes === undefined) throw encodeError(name, 'internal error: JSON text is not well-formed'); // unreachable: stringify escapes lone surrogates
      return bytes;
    },
    decode(bytes) {
      if (!(bytes instanceof Uint8Array)) throw decodeError(name, `expected a Uint8Array, got ${describe(bytes)}`);
      let text: string;
      try {
        text = utf8Decode(bytes);
      } catch (error) {
        throw decodeError(name, 'invalid UTF-8', invalidUtf8Offset(bytes), error);
      }
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw decodeError(name, `invalid JSON: ${(error as Error).message}`, undefined, error);
      }
    },
  };
}

interface Problem {
  readonly path: string;
  readonly reason: string;
}

/** First value under `value` that JSON cannot represent faithfully, with its path, or undefined. */
function findUnrepresentable(value: unknown, path: string, ancestors: Set<object>): Problem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, reason: `${describe(value)} is not representable in JSON` };
    case 'object':
      break;
    default:
      return { path, reason: `${describe(value)} is not representable in JSON` };
  }
  if (value === null) return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (ancestors.has(value)) return { path, reason: 'cyclic reference' };
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const problem = findUnrepresentable(value[i], `${path}[${i}]`, ancestors);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return { path, reason: `an instance of ${typeof kind === 'string' ? kind : 'a class'} is not representable in JSON` };
    }
    for (const key of Object.keys(value)) {
      const problem = findUnrepresentable((value as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`, ancestors);
      if (problem !== undefined) return problem;
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}
