/**
 * The contract of the `models` topic (DESIGN.md §3), shared by those who write it (the trainer, the
 * `sluice models` command) and those who read it (serving, the trainer's view of the live models).
 * It lives here, beside the descriptor, because serving and training may not import each other.
 *
 *   topic    compacted, one partition ({@link MODELS_TOPIC_CONFIG}), default name `models`
 *   key      the model name (UTF-8); `<name>@shadow` for a shadow candidate ({@link shadowKey}), a
 *            key no model name can be (`@` is not allowed in names), so compaction keeps it apart
 *   value    the descriptor's JSON (UTF-8)
 *   headers  `sluice.rollback: 1`  a rollback: taken although its version is not above the live one
 *            `sluice.shadow: 1`    a shadow candidate: scored beside the live model of its name,
 *                                  never emitted
 *
 * Acceptance ({@link supersedes}): a live descriptor replaces the one in service for its name when
 * none serves, when its version is higher, or when it is a rollback; a shadow candidate must be
 * above both the current shadow and the live version of its name (never a rollback). Readers apply
 * the rule in topic order.
 *
 * Header and record types are structural here (the model layer does not import the log layer).
 */

/** Default name of the models topic. */
export const DEFAULT_MODELS_TOPIC = 'models';

/** How the models topic is created: one partition (one order for every reader), compacted. */
export const MODELS_TOPIC_CONFIG = Object.freeze({ partitions: 1, cleanupPolicy: 'compact' } as const);

/** Header names of model records. */
export const ModelHeader = { rollback: 'sluice.rollback', shadow: 'sluice.shadow' } as const;

/** Record headers as the log carries them. */
export type ModelRecordHeaders = Readonly<Record<string, Uint8Array>>;

const SHADOW_SUFFIX = '@shadow';
const ONE = new TextEncoder().encode('1');

/** Key of the shadow candidate of model `name` on the models topic. */
export function shadowKey(name: string): string {
  return `${name}${SHADOW_SUFFIX}`;
}

/** The model name a record key stands for (the key without its `@shadow` suffix). */
export function modelNameOfKey(key: string): string {
  return key.endsWith(SHADOW_SUFFIX) ? key.slice(0, -SHADOW_SUFFIX.length) : key;
}

/** True when header `name` is present with the value `1`. */
export function headerFlag(headers: ModelRecordHeaders, name: string): boolean {
  const v = headers[name];
  return v !== undefined && v.length === 1 && v[0] === ONE[0];
}

/** The headers of a model record published as a rollback and/or a shadow candidate. */
export function modelRecordHeaders(flags: { readonly rollback?: boolean; readonly shadow?: boolean }): Record<string, Uint8Array> {
  const headers: Record<string, Uint8Array> = {};
  if (flags.rollback === true) headers[ModelHeader.rollback] = ONE;
  if (flags.shadow === true) headers[ModelHeader.shadow] = ONE;
  return headers;
}

/**
 * The acceptance rule: whether a descriptor of `version` takes the place of the one whose version
 * is `current` (undefined: none) — when it is newer, or when it is a `rollback`. For a shadow
 * candidate, apply it (without rollback) against the current shadow and against the live version.
 */
export function supersedes(current: number | undefined, version: number, rollback: boolean): boolean {
  return current === undefined || version > current || rollback;
}
