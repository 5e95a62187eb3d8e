/** Building a descriptor from a fitted model (native) or ONNX bytes, with its checksum. */
import { ErrorCode, SluiceError } from '../errors.ts';
import { canonicalJson, canonicalJsonBytes } from '../util/canonical-json.ts';
import { sha256Hex } from '../util/sha256.ts';
import { checkDescriptorStructure } from './descriptor-parse.ts';
import { ModelFormat, type ModelDescriptor, type ModelPayload, type ModelSignature, type TrainedOn } from './descriptor.ts';
import type { DetectorModel, JsonValue } from './types.ts';

/** Options of {@link createDescriptor}. Give `model`, or `params` (native), or `bytes` (onnx). */
export interface CreateDescriptorOptions {
  readonly name: string;
  readonly version: number;
  /** A fitted model: gives `kind`, `features.metrics` and the native `params`. */
  readonly model?: DetectorModel;
  /** Detector kind; required unless `model` is given. */
  readonly kind?: string;
  /** Default `native`, or `onnx` when `bytes` is given. */
  readonly format?: ModelFormat;
  /** Native parameters (when no `model` is given). */
  readonly params?: JsonValue;
  /** ONNX model bytes. */
  readonly bytes?: Uint8Array;
  /** Metric names; default `model.features`. */
  readonly features?: readonly string[];
  readonly window?: { readonly [key: string]: JsonValue };
  /** Default `Date.now()`. */
  readonly createdAt?: number;
  /** Default: nothing (`from`/`to` null, 0 records, no parent). */
  readonly trainedOn?: Partial<TrainedOn>;
  readonly metrics?: { readonly [name: string]: number };
  readonly settings?: { readonly [key: string]: JsonValue };
  readonly signature?: ModelSignature;
}

/**
 * Builds a descriptor with an inline payload and its checksum, and checks its structure (name,
 * version, features, times…; MODEL_INVALID naming the field). The kind is not checked against a
 * registry here: {@link parseDescriptor} does that where the descriptor is read.
 */
export function createDescriptor(options: CreateDescriptorOptions): ModelDescriptor {
  const format = options.format ?? (options.bytes !== undefined ? ModelFormat.ONNX : ModelFormat.NATIVE);
  let payload: ModelPayload;
  let bytes: Uint8Array;
  if (format === ModelFormat.ONNX) {
    if (options.bytes === undefined) throw invalid(options, '/payload', 'an onnx descriptor needs `bytes`');
    bytes = options.bytes;
    payload = { type: 'base64', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  } else {
    const params = options.params ?? options.model?.toParams();
    if (params === undefined) throw invalid(options, '/payload', 'a native descriptor needs `model` or `params`');
    bytes = canonicalJsonBytes(params);
    // Store the parameters as their canonical form re-read, so the descriptor holds plain JSON only.
    payload = { type: 'json', params: JSON.parse(canonicalJson(params)) as JsonValue };
  }
  const kind = options.kind ?? options.model?.kind;
  const metrics = options.features ?? options.model?.features;
  const trained = options.trainedOn ?? {};
  const descriptor: Record<string, unknown> = {
    name: options.name,
    version: options.version,
    kind,
    format,
    payload,
    sha256: sha256Hex(bytes),
    features: { metrics: metrics === undefined ? undefined : [...metrics], ...(options.window === undefined ? {} : { window: options.window }) },
    createdAt: options.createdAt ?? Date.now(),
    trainedOn: {
      from: trained.from ?? null,
      to: trained.to ?? null,
      records: trained.records ?? 0,
      parentVersion: trained.parentVersion ?? null,
    },
    metrics: { ...options.metrics },
    ...(options.settings === undefined ? {} : { settings: options.settings }),
    ...(options.signature === undefined ? {} : { signature: options.signature }),
  };
  return checkDescriptorStructure(descriptor);
}

function invalid(options: CreateDescriptorOptions, path: string, reason: string): SluiceError {
  return new SluiceError(
    ErrorCode.MODEL_INVALID,
    `model descriptor '${String(options.name)}' v${String(options.version)}: ${path}: ${reason}`,
    { details: { path } },
  );
}
