/**
 * Canonical JSON: one byte sequence per JSON value, so that a value can be hashed and signed.
 *
 * The rule follows RFC 8785 (JSON Canonicalization Scheme, JCS): no whitespace; object members
 * sorted by key, comparing keys as UTF-16 code-unit sequences (JavaScript's default sort); strings
 * escaped as `JSON.stringify` does (which is what JCS prescribes); numbers written by ECMAScript's
 * Number-to-String (`JSON.stringify`, so `-0` becomes `0` and `1e21` stays `1e+21`); arrays in order.
 * Values that JSON cannot carry (NaN, ±Infinity, undefined, functions, bigints, symbols) are
 * rejected, never silently dropped, and so are objects other than plain objects and arrays (Map,
 * Date, typed arrays…). The canonical bytes are the UTF-8 encoding of the result.
 */
import { ErrorCode, SluiceError } from '../errors.ts';

/** Canonical JSON text of `value` (RFC 8785); throws INVALID_ARGUMENT naming the path of a value JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

/** UTF-8 bytes of {@link canonicalJson}. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${path}: ${String(value)} cannot be written as JSON`, { details: { path } });
      }
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) parts.push(write(value[i], `${path}[${i}]`));
        return `[${parts.join(',')}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) break;
      const keys = Object.keys(value).sort();
      const parts: string[] = [];
      for (const key of keys) {
        parts.push(`${JSON.stringify(key)}:${write((value as Record<string, unknown>)[key], `${path}.${key}`)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      break;
  }
  throw new SluiceError(
    ErrorCode.INVALID_ARGUMENT,
    `${path}: a ${describe(value)} cannot be written as JSON`,
    { details: { path } },
  );
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' ? name : 'non-plain object';
}
