/**
 * Turning a descriptor into a {@link DetectorModel}: validate it again (structure, registry, size,
 * checksum, features), read a referenced payload, and build the model with the registry's factory.
 *
 * The ONNX hook: an `onnx`-format descriptor is built by whatever factory is registered under kind
 * `onnx` (`ONNX_FACTORY_KIND`); its `fromParams` receives an {@link OnnxPayload} (the descriptor's
 * `settings` plus `model`: the verified ONNX bytes) and the feature list. It may return the model
 * or a promise of it: {@link loadModelAsync} awaits it; {@link loadModel} (synchronous) fails with
 * MODEL_ONNX asking for the async loader. With no such factory: MODEL_UNKNOWN_FORMAT.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../errors.ts';
import { sha256Hex } from '../util/sha256.ts';
import {
  checkDescriptorAgainst,
  checkDescriptorStructure,
  checkModelMatches,
  factoryFor,
  fail,
  inlinePayloadBytes,
  instantiateNative,
  type DetectorRegistry,
  type ParseDescriptorOptions,
} from './descriptor-parse.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, ModelFormat, type ModelDescriptor } from './descriptor.ts';
import type { DetectorModel, JsonValue } from './types.ts';

/**
 * What the `onnx` factory's `fromParams` receives for an onnx-format descriptor: the descriptor's
 * `settings` (the ONNX detector's own parameters: output name, score mapping…) with `model` set to
 * the verified ONNX bytes.
 */
export type OnnxPayload = { readonly [setting: string]: JsonValue | Uint8Array } & { readonly model: Uint8Array };

/** Options of {@link loadModel}: those of parsing (registry, limits, expectations) plus where references resolve. */
export interface LoadModelOptions extends Omit<ParseDescriptorOptions, 'validateParams'> {
  /** Directory that `file:relative` payload URIs are resolved against. Default: the working directory. */
  readonly baseDir?: string;
}

/**
 * Validates `descriptor` and builds its model, synchronously (a referenced payload is read with a
 * synchronous file read). Throws the typed errors of `parseDescriptor`, plus MODEL_NOT_FOUND for a
 * missing payload file and MODEL_CHECKSUM_MISMATCH for a referenced file of the wrong size or hash.
 * The second argument is the registry, or options with a `registry`.
 */
export function loadModel(descriptor: ModelDescriptor, registryOrOptions: DetectorRegistry | LoadModelOptions): DetectorModel {
  const options = toOptions(registryOrOptions);
  const d = checkDescriptorStructure(descriptor);
  checkDescriptorAgainst(d, options);
  const bytes = d.payload.type === 'ref' ? readRefSync(d, options) : null;
  const built = build(d, bytes, options.registry);
  if (isPromise(built)) {
    void built.catch(() => undefined);
    throw fail(ErrorCode.MODEL_ONNX, d, '/format', 'the onnx factory loads asynchronously: use loadModelAsync');
  }
  return built;
}

/** {@link loadModel} with asynchronous file reads and support for asynchronous (ONNX) factories. */
export async function loadModelAsync(descriptor: ModelDescriptor, registryOrOptions: DetectorRegistry | LoadModelOptions): Promise<DetectorModel> {
  const options = toOptions(registryOrOptions);
  const d = checkDescriptorStructure(descriptor);
  checkDescriptorAgainst(d, options);
  const bytes = d.payload.type === 'ref' ? await readRef(d, options) : null;
  return await build(d, bytes, options.registry);
}

/**
 * The file a `file:` payload URI names: `file:relative/path` against `baseDir` (which it may not
 * leave), `file:///absolute/path` as is. MODEL_INVALID for anything else.
 */
export function resolvePayloadPath(d: ModelDescriptor, uri: string, baseDir: string = process.cwd()): string {
  if (uri.startsWith('file://')) {
    try {
      return fileURLToPath(uri);
    } catch (cause) {
      throw fail(ErrorCode.MODEL_INVALID, d, '/payload/uri', `not a valid file URL: ${(cause as Error).message}`, cause);
    }
  }
  if (!uri.startsWith('file:')) throw fail(ErrorCode.MODEL_INVALID, d, '/payload/uri', 'only file: URIs are supported');
  const rel = decodeURIComponent(uri.slice('file:'.length));
  if (isAbsolute(rel)) return resolve(rel);
  const base = resolve(baseDir);
  const path = resolve(base, rel);
  const inside = relative(base, path);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw fail(ErrorCode.MODEL_INVALID, d, '/payload/uri', `relative path ${JSON.stringify(rel)} leaves the base directory`);
  }
  return path;
}

function toOptions(arg: DetectorRegistry | LoadModelOptions): LoadModelOptions {
  return arg instanceof Map ? { registry: arg as DetectorRegistry } : (arg as LoadModelOptions);
}

function build(d: ModelDescriptor, refBytes: Uint8Array | null, registry: DetectorRegistry): DetectorModel | Promise<DetectorModel> {
  if (d.format === ModelFormat.NATIVE) {
    let params: unknown;
    if (d.payload.type === 'json') params = d.payload.params;
    else {
      try {
        params = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(refBytes ?? new Uint8Array()));
      } catch (cause) {
        throw fail(ErrorCode.MODEL_INVALID, d, '/payload/uri', `the referenced native payload is not UTF-8 JSON: ${(cause as Error).message}`, cause);
      }
    }
    return instantiateNative(d, params, registry);
  }
  const bytes = refBytes ?? inlinePayloadBytes(d, Number.MAX_SAFE_INTEGER);
  const payload: OnnxPayload = { ...d.settings, model: bytes as Uint8Array };
  const factory = factoryFor(d, registry);
  let result: DetectorModel | Promise<DetectorModel>;
  try {
    result = factory.fromParams(payload, d.features.metrics) as DetectorModel | Promise<DetectorModel>;
  } catch (cause) {
    throw wrapOnnx(d, cause);
  }
  if (isPromise(result)) {
    return result.then(
      (model) => {
        checkModelMatches(d, model, false);
        return model;
      },
      (cause: unknown) => {
        throw wrapOnnx(d, cause);
      },
    );
  }
  checkModelMatches(d, result, false);
  return result;
}

function wrapOnnx(d: ModelDescriptor, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return fail(ErrorCode.MODEL_ONNX, d, '/payload', `the onnx factory could not load the model: ${reason}`, cause);
}

function checkRefSize(d: ModelDescriptor, actual: number, options: LoadModelOptions): void {
  if (d.payload.type !== 'ref') return;
  const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (actual > max) throw fail(ErrorCode.MODEL_TOO_LARGE, d, '/payload/uri', `the file has ${actual} bytes, over the limit of ${max} bytes`);
  if (actual !== d.payload.size) {
    throw fail(ErrorCode.MODEL_CHECKSUM_MISMATCH, d, '/payload/size', `the file has ${actual} bytes, the descriptor says ${d.payload.size}`);
  }
}

function checkRefHash(d: ModelDescriptor, bytes: Uint8Array): Uint8Array {
  const actual = sha256Hex(bytes);
  if (actual !== d.sha256) throw fail(ErrorCode.MODEL_CHECKSUM_MISMATCH, d, '/sha256', `the referenced payload hashes to ${actual}, the descriptor says ${d.sha256}`);
  return bytes;
}

function readRefSync(d: ModelDescriptor, options: LoadModelOptions): Uint8Array {
  const path = resolvePayloadPath(d, (d.payload as { uri: string }).uri, options.baseDir);
  try {
    checkRefSize(d, statSync(path).size, options);
    return checkRefHash(d, new Uint8Array(readFileSync(path)));
  } catch (cause) {
    throw ioError(d, path, cause);
  }
}

async function readRef(d: ModelDescriptor, options: LoadModelOptions): Promise<Uint8Array> {
  const path = resolvePayloadPath(d, (d.payload as { uri: string }).uri, options.baseDir);
  try {
    checkRefSize(d, (await stat(path)).size, options);
    return checkRefHash(d, new Uint8Array(await readFile(path)));
  } catch (cause) {
    throw ioError(d, path, cause);
  }
}

function ioError(d: ModelDescriptor, path: string, cause: unknown): Error {
  if ((cause as { code?: unknown }).code === 'ENOENT') {
    return fail(ErrorCode.MODEL_NOT_FOUND, d, '/payload/uri', `payload file ${path} does not exist`, cause);
  }
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string' && cause.code.startsWith('SLUICE_')) return cause;
  return fail(ErrorCode.MODEL_INVALID, d, '/payload/uri', `cannot read payload file ${path}: ${(cause as Error).message}`, cause);
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
