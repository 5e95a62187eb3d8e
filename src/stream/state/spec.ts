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
  return Object.freeze({
    name: options.name,
    kind,
    keyCodec: options.key as Codec<unknown>,
    valueCodec: options.value as Codec<unknown>,
    maxEntries: options.maxEntries ?? null,
    changelog: (kind === 'keyValue' || kind === 'window') && options.changelog !== false,
    topic,
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
