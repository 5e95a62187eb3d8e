/**
 * The model descriptor (DESIGN.md §3): what carries a fitted model from the trainer to every serving
 * instance (value of the compacted `models` topic, key = model name) and into the model store.
 *
 * Payload bytes and the checksum: `sha256` is the lowercase hex SHA-256 of the payload's bytes.
 * - `native` inline (`{ type: 'json', params }`): the bytes are the UTF-8 of the canonical JSON of
 *   `params` (RFC 8785 JCS: sorted keys, no whitespace, ECMAScript number formatting; see
 *   src/util/canonical-json.ts), so any re-serialisation of the descriptor keeps the same checksum.
 * - `onnx` inline (`{ type: 'base64', data }`): the bytes are the decoded ONNX file.
 * - by reference (`{ type: 'ref', uri, size }`): the bytes are the referenced file's bytes exactly
 *   (for `native`, the store writes the canonical JSON of the parameters, so the checksum is the
 *   same as inline). `file:` URIs only: `file:relative/path` is resolved against the model store (or
 *   the `baseDir` given to the loader), `file:///absolute/path` is absolute.
 */
import type { JsonValue } from './types.ts';
import { canonicalJson, canonicalJsonBytes } from '../util/canonical-json.ts';

/** Payload formats: native JSON parameters of a Sluice detector, or an ONNX graph. */
export const ModelFormat = { NATIVE: 'native', ONNX: 'onnx' } as const;
/** One of {@link ModelFormat}. */
export type ModelFormat = (typeof ModelFormat)[keyof typeof ModelFormat];

/** The kind under which the factory that loads `onnx`-format descriptors is registered. */
export const ONNX_FACTORY_KIND = 'onnx';

/** Default largest payload accepted: 64 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** A model's payload: inline JSON parameters (native), inline base64 bytes (onnx), or a reference. */
export type ModelPayload =
  | { readonly type: 'json'; readonly params: JsonValue }
  | { readonly type: 'base64'; readonly data: string }
  | { readonly type: 'ref'; readonly uri: string; readonly size: number };

/** What the model reads: metric names in the model's fixed order, and any windowing settings. */
export interface ModelFeatures {
  readonly metrics: readonly string[];
  /** Windowing of the features (e.g. `{ size: 16, stride: 1 }`), as the detector defines it. */
  readonly window?: { readonly [key: string]: JsonValue };
}

/** The history a model was fitted on. */
export interface TrainedOn {
  /** Event time of the first training record (ms), or null when fitted on nothing. */
  readonly from: number | null;
  /** Event time of the last training record (ms), or null when fitted on nothing. */
  readonly to: number | null;
  /** Number of training records. */
  readonly records: number;
  /** Version this one was retrained from, or null. */
  readonly parentVersion: number | null;
}

/** A detached signature over {@link signedBytes}; checked by a caller-supplied verifier. */
export interface ModelSignature {
  /** e.g. `ed25519`. */
  readonly algorithm: string;
  readonly keyId: string;
  /** Base64 signature value. */
  readonly value: string;
}

/** The model descriptor of DESIGN.md §3. Plain JSON: `JSON.stringify` it to publish or store it. */
export interface ModelDescriptor {
  /** 1–128 characters of [a-zA-Z0-9._-], not starting with `.` (safe as a directory name). */
  readonly name: string;
  /** Integer ≥ 1, increasing per name. */
  readonly version: number;
  /** Detector type (a key of the registry for `native`; descriptive for `onnx`). */
  readonly kind: string;
  readonly format: ModelFormat;
  readonly payload: ModelPayload;
  /** Lowercase hex SHA-256 of the payload bytes (see the file comment). */
  readonly sha256: string;
  readonly features: ModelFeatures;
  /** Creation time, ms since the epoch. */
  readonly createdAt: number;
  readonly trainedOn: TrainedOn;
  /** Evaluation results, metric name → finite number (e.g. `{ nabStandard: 68.1 }`). */
  readonly metrics: { readonly [name: string]: number };
  /** Format-specific loading settings (for `onnx`: input/output names, score mapping…). */
  readonly settings?: { readonly [key: string]: JsonValue };
  readonly signature?: ModelSignature;
}

/**
 * The bytes a signature covers: the canonical JSON (UTF-8) of the descriptor without its
 * `signature` field. Since the descriptor holds the payload's sha256, this covers the payload too.
 */
export function signedBytes(descriptor: ModelDescriptor): Uint8Array {
  const { signature: _signature, ...rest } = descriptor;
  return canonicalJsonBytes(rest);
}

/** Canonical JSON text of a descriptor: equal descriptors give equal text (used to compare them). */
export function descriptorToJSON(descriptor: ModelDescriptor): string {
  return canonicalJson(descriptor);
}
