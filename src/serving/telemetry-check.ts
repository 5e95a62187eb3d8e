/**
 * The checks a telemetry record passes before it is scored (DESIGN.md §3, issue 5 "Bad input"), in
 * this order, each with the reason that goes into the dead letter's `sluice.dlq.reason` header:
 *
 *   oversize      key + value larger than `maxRecordBytes`
 *   decode        not a binary telemetry record (src/log/codecs/telemetry-codec.ts)
 *   device-id     missing, empty or too long device id
 *   metric        a metric that is not a finite number (NaN, ±Infinity), or a bad metric name
 *   timestamp     event time that is not an integer number of ms
 *   invalid       any other breach of the telemetry contract (unknown field, bad tags or seq)
 *   skew          event time more than `maxSkewMs` away from the injected clock's now
 *   key-mismatch  a record key that is not the record's device id (it would sit in the wrong partition)
 *
 * (`capacity` — a task already holds `maxDevicesPerTask` devices — is decided by the processor.)
 */
import { isSluiceError, ErrorCode } from '../errors.ts';
import { telemetryCodec, telemetryValidator, type Telemetry } from '../log/index.ts';

/** Why a telemetry record was sent to the dead-letter topic. */
export const DlqReason = {
  oversize: 'oversize',
  decode: 'decode',
  deviceId: 'device-id',
  metric: 'metric',
  timestamp: 'timestamp',
  invalid: 'invalid',
  skew: 'skew',
  keyMismatch: 'key-mismatch',
  capacity: 'capacity',
} as const;
/** One of {@link DlqReason}. */
export type DlqReason = (typeof DlqReason)[keyof typeof DlqReason];

/** A record that failed a check: the reason and a message naming the field. */
export class Rejection {
  readonly reason: DlqReason;
  readonly message: string;

  constructor(reason: DlqReason, message: string) {
    this.reason = reason;
    this.message = message;
  }
}

/** Settings of {@link telemetryChecker}. */
export interface TelemetryCheckOptions {
  readonly maxRecordBytes: number;
  /** null: no skew check. */
  readonly maxSkewMs: number | null;
  /** The wall clock the skew is measured against. */
  readonly now: () => number;
}

/** Checks one raw telemetry record: returns the decoded record, or a {@link Rejection}. */
export type TelemetryCheck = (key: Uint8Array | null, value: Uint8Array) => Telemetry | Rejection;

/** A checker with fixed settings (see the file comment for the order of the checks). */
export function telemetryChecker(options: TelemetryCheckOptions): TelemetryCheck {
  const validate = telemetryValidator();
  const { maxRecordBytes, maxSkewMs, now } = options;
  return (key, value) => {
    const size = value.byteLength + (key?.byteLength ?? 0);
    if (size > maxRecordBytes) return new Rejection(DlqReason.oversize, `record is ${size} bytes, at most ${maxRecordBytes} allowed`);
    let t: Telemetry;
    try {
      t = telemetryCodec.decode(value);
      validate(t);
    } catch (error) {
      return classify(error);
    }
    if (maxSkewMs !== null) {
      const skew = t.ts - now();
      if (Math.abs(skew) > maxSkewMs) {
        return new Rejection(DlqReason.skew, `ts is ${Math.abs(skew)} ms ${skew > 0 ? 'ahead of' : 'behind'} now (max skew ${maxSkewMs} ms)`);
      }
    }
    if (key !== null && !keyIs(key, t.deviceId)) return new Rejection(DlqReason.keyMismatch, `record key is not the device id ${JSON.stringify(t.deviceId)}`);
    return t;
  };
}

function classify(error: unknown): Rejection {
  const message = error instanceof Error ? error.message : String(error);
  if (!isSluiceError(error, ErrorCode.CODEC_VALIDATION)) return new Rejection(DlqReason.decode, message);
  const path = String(error.details.path ?? '');
  if (path === 'deviceId') return new Rejection(DlqReason.deviceId, message);
  if (path === 'ts') return new Rejection(DlqReason.timestamp, message);
  if (path.startsWith('metrics')) return new Rejection(DlqReason.metric, message);
  return new Rejection(DlqReason.invalid, message);
}

const decoder = new TextDecoder();

/** True when `key` is the UTF-8 of `id` (ASCII compared in place; anything else decoded). */
function keyIs(key: Uint8Array, id: string): boolean {
  if (key.length === id.length) {
    let ascii = true;
    for (let i = 0; i < key.length; i++) {
      const b = key[i]!;
      if (b >= 0x80) {
        ascii = false;
        break;
      }
      if (b !== id.charCodeAt(i)) return false;
    }
    if (ascii) return true;
  }
  return decoder.decode(key) === id;
}
