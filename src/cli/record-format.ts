/**
 * How `topics tail` shows a record's key and value: decoded by a chosen codec, or, with `auto`,
 * by sniffing (binary telemetry by its magic byte and version, then JSON, then UTF-8 text, else hex).
 */
import { jsonCodec, stringCodec, telemetryCodec, TELEMETRY_FORMAT_VERSION, TELEMETRY_MAGIC } from '../log/index.ts';

/** Codecs `topics tail --codec` accepts. */
export const TAIL_CODECS = ['auto', 'json', 'telemetry', 'string', 'hex'] as const;
/** One of {@link TAIL_CODECS}. */
export type TailCodec = (typeof TAIL_CODECS)[number];

/** Longest hex dump shown when `auto` falls back to hex. */
const AUTO_HEX_LIMIT = 256;

/** The value of a record as one line of text, decoded with `codec`. */
export function formatValue(bytes: Uint8Array, codec: TailCodec): string {
  switch (codec) {
    case 'telemetry':
      return attempt(() => JSON.stringify(telemetryCodec.decode(bytes)), bytes);
    case 'json':
      return attempt(() => JSON.stringify(jsonCodec<unknown>().decode(bytes)), bytes);
    case 'string':
      return attempt(() => JSON.stringify(stringCodec.decode(bytes)), bytes);
    case 'hex':
      return hex(bytes);
    case 'auto':
      return sniff(bytes);
  }
}

/** A record key: its UTF-8 text when printable, else hex; `null` when absent. */
export function formatKey(key: Uint8Array | null): string {
  if (key === null) return 'null';
  const text = printable(key);
  return text === undefined ? `0x${hex(key, AUTO_HEX_LIMIT).replaceAll(' ', '')}` : text;
}

function sniff(bytes: Uint8Array): string {
  if (bytes.length >= 2 && bytes[0] === TELEMETRY_MAGIC && bytes[1] === TELEMETRY_FORMAT_VERSION) {
    try {
      return JSON.stringify(telemetryCodec.decode(bytes));
    } catch {
      // Not telemetry after all: fall through to the other guesses.
    }
  }
  const text = printable(bytes);
  if (text === undefined) return `hex ${hex(bytes, AUTO_HEX_LIMIT)}`;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return JSON.stringify(text);
  }
}

/** UTF-8 text without control characters (tabs allowed), or undefined. */
function printable(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = stringCodec.decode(bytes);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? undefined : text;
}

function attempt(decode: () => string, bytes: Uint8Array): string {
  try {
    return decode();
  } catch (error) {
    return `<${error instanceof Error ? error.message : String(error)}> hex ${hex(bytes, AUTO_HEX_LIMIT)}`;
  }
}

/** Space-separated hex bytes, cut after `limit` bytes with `…`. */
export function hex(bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): string {
  const shown = bytes.length > limit ? bytes.subarray(0, limit) : bytes;
  const s = Array.from(shown, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > limit ? `${s} … (${bytes.length} bytes)` : s;
}
