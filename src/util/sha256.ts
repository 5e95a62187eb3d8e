/** SHA-256 digests (FIPS 180-4) as lowercase hex, via node:crypto. */
import { createHash } from 'node:crypto';

/** Lowercase hex SHA-256 of `data` (strings are hashed as UTF-8). */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** True when `s` looks like a lowercase hex SHA-256 digest (64 characters of 0-9a-f). */
export function isSha256Hex(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}
