/**
 * Strict UTF-8 helpers shared by the codecs. Encoding refuses strings with lone surrogates (they
 * would silently become U+FFFD and not round-trip); decoding refuses invalid UTF-8 (fatal decoder).
 */

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of `text`, or undefined when `text` has a lone surrogate (not valid Unicode). */
export function utf8Encode(text: string): Uint8Array | undefined {
  return text.isWellFormed() ? encoder.encode(text) : undefined;
}

/** Decodes `bytes[start, end)` as strict UTF-8; throws a TypeError on invalid input. */
export function utf8Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return fatalDecoder.decode(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
}
