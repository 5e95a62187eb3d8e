/** Checks of topology arguments; each failure is a STREAM_INVALID_TOPOLOGY error naming the path. */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { Codec } from '../../log/codecs/codec.ts';

/** A STREAM_INVALID_TOPOLOGY error with `message`. */
export function invalidTopology(message: string, details: Record<string, unknown> = {}): SluiceError {
  return new SluiceError(ErrorCode.STREAM_INVALID_TOPOLOGY, message, { details });
}

/** Throws STREAM_INVALID_TOPOLOGY unless `value` is a function. */
export function assertFunction(path: string, value: unknown): void {
  if (typeof value !== 'function') throw invalidTopology(`${path} must be a function, got ${typeof value}`, { path });
}

/** Throws STREAM_INVALID_TOPOLOGY unless `value` looks like a {@link Codec}. */
export function assertCodec(path: string, value: unknown): void {
  const c = value as Partial<Codec<unknown>> | undefined;
  if (typeof c !== 'object' || c === null || typeof c.encode !== 'function' || typeof c.decode !== 'function') {
    throw invalidTopology(`${path} must be a codec ({ name, encode, decode })`, { path });
  }
}

/** Throws STREAM_INVALID_TOPOLOGY unless `value` is an integer in [min, max]. */
export function assertInteger(path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidTopology(`${path} must be an integer in [${min}, ${max}], got ${String(value)}`, { path });
  }
}
