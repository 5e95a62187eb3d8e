/**
 * The model store: every version of every model, in a directory on local disk, for boot (a serving
 * instance starts from the latest stored version before the `models` topic catches up) and for
 * audit (what was served, when, trained on what).
 *
 * Layout: `<dir>/<name>/v<version>.json` holds the descriptor (canonical JSON); a payload larger than
 * `inlineLimitBytes` lives beside it in `<dir>/<name>/<sha256>.payload` (content-addressed) and the
 * stored descriptor references it as `file:<name>/<sha256>.payload` (resolved against `<dir>`).
 *
 * Writes are atomic: each file is written to a temporary name, flushed, then moved into place; a
 * descriptor is moved with `link` (which never replaces an existing file), so two writers of the same
 * version cannot both win. Versions only grow: saving version ≤ the latest of that name is refused
 * (MODEL_VERSION_CONFLICT) unless that exact descriptor is already stored (then it is a no-op).
 * Everything read back is validated; an invalid file throws and is never served in place of another.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCode, SluiceError } from '../errors.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { loadModelAsync, resolvePayloadPath } from './descriptor-load.ts';
import {
  checkDescriptorAgainst,
  checkDescriptorStructure,
  fail,
  inlinePayloadBytes,
  instantiateNative,
  parseDescriptor,
  type DetectorRegistry,
} from './descriptor-parse.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, ModelFormat, type ModelDescriptor, type ModelPayload } from './descriptor.ts';
import { sha256Hex } from '../util/sha256.ts';
import { detectorFactories } from './registry.ts';
import type { DetectorModel, JsonValue } from './types.ts';

/** Options of {@link ModelStore}. */
export interface ModelStoreOptions {
  /** Directory of the store; created on first save. Default `./data/models`. */
  readonly dir?: string;
  /** Detector kinds accepted. Default: `detectorFactories`. */
  readonly registry?: DetectorRegistry;
  /** Payloads larger than this are stored as separate files. Default 1 MiB. */
  readonly inlineLimitBytes?: number;
  /** Largest payload accepted. Default 64 MiB. */
  readonly maxPayloadBytes?: number;
}

/** Defaults of {@link ModelStoreOptions}. */
export const MODEL_STORE_DEFAULTS = {
  dir: './data/models',
  inlineLimitBytes: 1024 * 1024,
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
} as const;

/** Options of {@link ModelStore.save}. */
export interface SaveOptions {
  /** Where a `file:relative` payload URI of the descriptor being saved resolves. Default: the working directory. */
  readonly baseDir?: string;
}

/** A stored model: its name and its versions, ascending. */
export interface StoredModel {
  readonly name: string;
  readonly versions: readonly number[];
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;
const VERSION_FILE = /^v([1-9][0-9]{0,15})\.json$/;

/** Every version of every model in a local directory (see the file comment). */
export class ModelStore {
  /** Absolute path of the store's directory. */
  readonly dir: string;
  readonly #registry: DetectorRegistry;
  readonly #inlineLimit: number;
  readonly #maxPayload: number;

  constructor(options: ModelStoreOptions = {}) {
    const inlineLimit = options.inlineLimitBytes ?? MODEL_STORE_DEFAULTS.inlineLimitBytes;
    const maxPayload = options.maxPayloadBytes ?? MODEL_STORE_DEFAULTS.maxPayloadBytes;
    if (!Number.isSafeInteger(inlineLimit) || inlineLimit < 0) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `model store: inlineLimitBytes must be a non-negative integer, got ${String(inlineLimit)}`);
    }
    if (!Number.isSafeInteger(maxPayload) || maxPayload < 1) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `model store: maxPayloadBytes must be a positive integer, got ${String(maxPayload)}`);
    }
    if (options.dir !== undefined && (typeof options.dir !== 'string' || options.dir === '')) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'model store: dir must be a non-empty path');
    }
    this.dir = resolve(options.dir ?? MODEL_STORE_DEFAULTS.dir);
    this.#registry = options.registry ?? detectorFactories;
    this.#inlineLimit = inlineLimit;
    this.#maxPayload = maxPayload;
  }

  /**
   * Validates `descriptor` (structure, kind, size, checksum, native parameters), stores it and
   * returns the stored form (payload inline, or a `file:` reference into the store when larger than
   * `inlineLimitBytes`). MODEL_VERSION_CONFLICT when its version is not above the latest stored one
   * for its name, unless the same descriptor is already stored under that version.
   */
  async save(descriptor: ModelDescriptor, options: SaveOptions = {}): Promise<ModelDescriptor> {
    const d = checkDescriptorStructure(descriptor);
    checkDescriptorAgainst(d, { registry: this.#registry, maxPayloadBytes: this.#maxPayload });
    const bytes = inlinePayloadBytes(d, this.#maxPayload) ?? (await this.#readRef(d, options.baseDir));
    if (d.format === ModelFormat.NATIVE) instantiateNative(d, nativeParams(d, bytes), this.#registry);

    let payload: ModelPayload;
    if (bytes.byteLength > this.#inlineLimit) {
      payload = { type: 'ref', uri: `file:${d.name}/${d.sha256}.payload`, size: bytes.byteLength };
    } else if (d.format === ModelFormat.NATIVE) {
      payload = { type: 'json', params: nativeParams(d, bytes) };
    } else {
      payload = { type: 'base64', data: Buffer.from(bytes).toString('base64') };
    }
    const stored: ModelDescriptor = { ...d, payload };
    const text = canonicalJson(stored);

    const existing = await this.versions(d.name);
    const latest = existing.at(-1);
    if (existing.includes(d.version)) return await this.#sameOrConflict(d, text);
    if (latest !== undefined && d.version < latest) {
      throw fail(ErrorCode.MODEL_VERSION_CONFLICT, d, '/version', `must be above the latest stored version ${latest}`, undefined, { latest });
    }
    const modelDir = join(this.dir, d.name);
    await mkdir(modelDir, { recursive: true });
    if (payload.type === 'ref') {
      // Content-addressed: replacing an existing file writes the same bytes.
      const tmp = await writeTemp(modelDir, bytes);
      await rename(tmp, join(modelDir, `${d.sha256}.payload`));
    }
    const tmp = await writeTemp(modelDir, new TextEncoder().encode(text));
    try {
      await link(tmp, join(modelDir, `v${d.version}.json`));
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
      return await this.#sameOrConflict(d, text);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await syncDir(modelDir);
    return stored;
  }

  /** Version numbers stored for `name`, ascending ([] when none). */
  async versions(name: string): Promise<number[]> {
    checkName(name);
    let entries: string[];
    try {
      entries = await readdir(join(this.dir, name));
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return [];
      throw error;
    }
    const out: number[] = [];
    for (const e of entries) {
      const m = VERSION_FILE.exec(e);
      if (m !== null) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** Every stored model with its versions, sorted by name. */
  async list(): Promise<StoredModel[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return [];
      throw error;
    }
    const out: StoredModel[] = [];
    for (const name of entries.filter((e) => NAME.test(e)).sort()) {
      const versions = await this.versions(name);
      if (versions.length > 0) out.push({ name, versions });
    }
    return out;
  }

  /**
   * The stored descriptor of `name` at `version`, validated (structure, kind, size, inline checksum;
   * a referenced payload is verified by {@link load}). MODEL_NOT_FOUND when it is not stored.
   */
  async get(name: string, version: number): Promise<ModelDescriptor> {
    checkName(name);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `model store: version must be an integer ≥ 1, got ${String(version)}`);
    }
    const path = join(this.dir, name, `v${version}.json`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') {
        throw new SluiceError(ErrorCode.MODEL_NOT_FOUND, `model '${name}' v${version} is not in the store ${this.dir}`, { details: { name, version } });
      }
      throw error;
    }
    const d = parseDescriptor(text, { registry: this.#registry, maxPayloadBytes: this.#maxPayload, validateParams: false });
    if (d.name !== name || d.version !== version) {
      throw fail(ErrorCode.MODEL_INVALID, d, '/', `stored in ${path}, which belongs to '${name}' v${version}`);
    }
    return d;
  }

  /** The latest stored descriptor of `name` (validated as by {@link get}), or null when none is stored. */
  async latest(name: string): Promise<ModelDescriptor | null> {
    const versions = await this.versions(name);
    const v = versions.at(-1);
    return v === undefined ? null : this.get(name, v);
  }

  /**
   * Loads the model `name` at `version` (default: the latest) with every check, payload references
   * included. MODEL_NOT_FOUND when nothing is stored.
   */
  async load(name: string, version?: number): Promise<{ readonly descriptor: ModelDescriptor; readonly model: DetectorModel }> {
    const v = version ?? (await this.versions(name)).at(-1);
    if (v === undefined) throw new SluiceError(ErrorCode.MODEL_NOT_FOUND, `no version of model '${name}' is in the store ${this.dir}`, { details: { name } });
    const descriptor = await this.get(name, v);
    const model = await loadModelAsync(descriptor, { registry: this.#registry, maxPayloadBytes: this.#maxPayload, baseDir: this.dir });
    return { descriptor, model };
  }

  async #sameOrConflict(d: ModelDescriptor, text: string): Promise<ModelDescriptor> {
    const path = join(this.dir, d.name, `v${d.version}.json`);
    const current = await readFile(path, 'utf8');
    if (current === text) return JSON.parse(current) as ModelDescriptor;
    throw fail(ErrorCode.MODEL_VERSION_CONFLICT, d, '/version', `a different descriptor is already stored as v${d.version}`);
  }

  async #readRef(d: ModelDescriptor, baseDir: string | undefined): Promise<Uint8Array> {
    if (d.payload.type !== 'ref') throw new Error('unreachable');
    const path = resolvePayloadPath(d, d.payload.uri, baseDir);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (cause) {
      if ((cause as { code?: unknown }).code === 'ENOENT') throw fail(ErrorCode.MODEL_NOT_FOUND, d, '/payload/uri', `payload file ${path} does not exist`, cause);
      throw cause;
    }
    if (bytes.byteLength > this.#maxPayload) {
      throw fail(ErrorCode.MODEL_TOO_LARGE, d, '/payload/uri', `the file has ${bytes.byteLength} bytes, over the limit of ${this.#maxPayload} bytes`);
    }
    if (bytes.byteLength !== d.payload.size) {
      throw fail(ErrorCode.MODEL_CHECKSUM_MISMATCH, d, '/payload/size', `the file has ${bytes.byteLength} bytes, the descriptor says ${d.payload.size}`);
    }
    const actual = sha256Hex(bytes);
    if (actual !== d.sha256) throw fail(ErrorCode.MODEL_CHECKSUM_MISMATCH, d, '/sha256', `the referenced payload hashes to ${actual}, the descriptor says ${d.sha256}`);
    return bytes;
  }
}

function nativeParams(d: ModelDescriptor, bytes: Uint8Array): JsonValue {
  if (d.payload.type === 'json') return d.payload.params;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as JsonValue;
  } catch (cause) {
    throw fail(ErrorCode.MODEL_INVALID, d, '/payload/uri', `the referenced native payload is not UTF-8 JSON: ${(cause as Error).message}`, cause);
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `model store: invalid model name ${JSON.stringify(name)}`);
  }
}

/** Writes `bytes` to a fresh temporary file in `dir`, flushed to disk; returns its path. */
async function writeTemp(dir: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return path;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename/link is still atomic.
  } finally {
    await handle.close();
  }
}
