/**
 * Declarations of state stores in a topology (`builder.addStore`, `builder.table`,
 * `builder.globalTable`): frozen data the runtime and the test driver turn into stores per task.
 *
 * Three kinds:
 * - `keyValue`: a task-local store written by processors; every write also goes to the compacted
 *   changelog topic `<applicationId>-<store>-changelog`, partition = the task's partition.
 * - `table`: a topic read as a table by the tasks that join it (partition n of the table for the
 *   task of partition n): the source topic itself is the changelog, so nothing extra is written.
 * - `global`: a topic read in full (every partition) by every instance, shared by all its tasks.
 */
import type { Codec } from '../../log/codecs/codec.ts';
import { assertCodec, assertInteger, invalidTopology } from '../topology/validate.ts';

/** The kinds of store. */
export const StoreKind = { keyValue: 'keyValue', table: 'table', global: 'global', window: 'window' } as const;
/** `keyValue`, `table`, `global` or `window` (a windowed aggregation's store, window/store.ts). */
export type StoreKind = (typeof StoreKind)[keyof typeof StoreKind];

/** Options of `builder.addStore()`. */
export interface StoreOptions<K, V> {
  /** Store name, unique in the topology (names the changelog `<applicationId>-<name>-changelog`). */
  readonly name: string;
  readonly key: Codec<K>;
  readonly value: Codec<V>;
  /**
   * Most entries per task; a put of a new key beyond it fails (a processing error, handled by the
   * error policy). Default: unbounded (memory grows with the number of distinct keys).
   */
  readonly maxEntries?: number;
  /** Write a changelog (default true). Without it the store starts empty after a restart or move. */
  readonly changelog?: boolean;
  /**
   * When a write's value is encoded for the changelog (keyValue stores). `'put'` (default): at
   * `put()`, so a value the codec rejects fails the record that wrote it, and the bytes wait in
   * memory for the commit. `'commit'`: when the task commits, from the value the store then holds
   * for the key — for large values changed in place and put again now and then (a detector's
   * state), whose bytes would otherwise outlive young-generation collections and fill the old
   * generation; a codec error then stops the application at the commit.
   */
  readonly encodeChangelog?: 'put' | 'commit';
}

/** A declared store. */
export interface StoreSpec {
  readonly name: string;
  readonly kind: StoreKind;
  readonly keyCodec: Codec<unknown>;
  readonly valueCodec: Codec<unknown>;
  /** null: unbounded. */
  readonly maxEntries: number | null;
  /** Whether writes go to `<applicationId>-<name>-changelog` (keyValue stores only). */
  readonly changelog: boolean;
  /** The topic a table or global table reads (null for keyValue stores). */
  readonly topic: string | null;
  /** When a keyValue store encodes a write for its changelog (StoreOptions.encodeChangelog). */
  readonly encodeChangelog: 'put' | 'commit';
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** Validates store options and returns the spec (STREAM_INVALID_TOPOLOGY naming the path). */
export function storeSpec<K, V>(kind: StoreKind, options: StoreOptions<K, V>, topic: string | null = null): StoreSpec {
  const path = kind === 'keyValue' ? 'addStore()' : kind === 'window' ? 'windowedBy()' : `${kind === 'table' ? 'table' : 'globalTable'}('${String(topic)}')`;
  if (typeof options !== 'object' || options === null) throw invalidTopology(`${path}: options must be an object with name, key and value`);
  if (typeof options.name !== 'string' || !NAME.test(options.name)) {
    throw invalidTopology(`${path}.name must be 1-100 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(options.name)}`, { path: `${path}.name` });
  }
  assertCodec(`${path}.key`, options.key);
  assertCodec(`${path}.value`, options.value);
  if (options.maxEntries !== undefined) assertInteger(`${path}.maxEntries`, options.maxEntries, 1);
  if (options.changelog !== undefined && typeof options.changelog !== 'boolean') throw invalidTopology(`${path}.changelog must be a boolean`, { path: `${path}.changelog` });
  const encodeChangelog = options.encodeChangelog ?? 'put';
  if (encodeChangelog !== 'put' && encodeChangelog !== 'commit') {
    throw invalidTopology(`${path}.encodeChangelog must be 'put' or 'commit', got ${JSON.stringify(encodeChangelog)}`, { path: `${path}.encodeChangelog` });
  }
  return Object.freeze({
    name: options.name,
    kind,
    keyCodec: options.key as Codec<unknown>,
    valueCodec: options.value as Codec<unknown>,
    maxEntries: options.maxEntries ?? null,
    changelog: (kind === 'keyValue' || kind === 'window') && options.changelog !== false,
    topic,
    encodeChangelog,
  });
}

/** The changelog topic of a keyValue store. */
export function changelogTopic(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

/** The topic a store is restored from: its changelog, or the table's own topic; null if none. */
export function restoreTopic(spec: StoreSpec, applicationId: string): string | null {
  if (spec.kind === 'keyValue' || spec.kind === 'window') return spec.changelog ? changelogTopic(applicationId, spec.name) : null;
  return spec.topic;
}
