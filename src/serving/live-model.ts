/**
 * The models an instance serves, as one immutable table that the model manager replaces whole on
 * every swap (so a record always sees one consistent table: the swap is atomic at a record
 * boundary), and the routing rule of the serving contract: a record is scored by the most specific
 * live model — `device.<deviceId>`, then `class.<class tag>`, then `default`.
 */
import type { DeciderOptions, DetectorModel, ModelDescriptor } from '../model/index.ts';
import { LatencyHistogram } from './latency.ts';

/** Name of the fleet-wide model. */
export const DEFAULT_MODEL = 'default';

/** Name of the model of one device. */
export function deviceModelName(deviceId: string): string {
  return `device.${deviceId}`;
}

/** Name of the model of one device class. */
export function classModelName(className: string): string {
  return `class.${className}`;
}

/** Whether a model scores and emits (`live`) or only scores beside the live one (`shadow`). */
export const ModelRole = { live: 'live', shadow: 'shadow' } as const;
/** One of {@link ModelRole}. */
export type ModelRole = (typeof ModelRole)[keyof typeof ModelRole];

/** Where a served model came from. */
export const ModelSource = { topic: 'topic', store: 'store', config: 'config' } as const;
/** One of {@link ModelSource}. */
export type ModelSource = (typeof ModelSource)[keyof typeof ModelSource];

/** How a shadow agreed with the live model on the records both scored. */
export class ShadowAgreement {
  /** Records both scored. */
  compared = 0;
  /** Records on which both made the same decision (anomaly or not). */
  agreed = 0;
  /** Sum of |shadow score − live score| (raw scores, both in [0, 1]). */
  sumAbsDelta = 0;
  /** The live model compared against last. */
  against: { readonly name: string; readonly version: number } | null = null;
}

/** Counters of one served model version (shared by every task of the instance). */
export class ModelStats {
  /** Records scored. */
  scored = 0;
  /** Records it decided were anomalous (emitted for live models). */
  anomalies = 0;
  /** Records on which it threw or returned a non-finite score (sent to the dead-letter topic). */
  errors = 0;
  /** Ensemble: records it was left out of because it was over its latency budget. */
  dropped = 0;
  /** Scoring latency (score + decide) per record, in ms, on one record in `latencySampleEvery`. */
  readonly latency = new LatencyHistogram();
  /** Shadows only: agreement with the live model. */
  readonly shadow = new ShadowAgreement();
}

/** A model version in service: descriptor, model, decider settings and counters. */
export interface LiveModel {
  readonly name: string;
  readonly version: number;
  readonly role: ModelRole;
  readonly descriptor: ModelDescriptor;
  readonly model: DetectorModel;
  /** Decider options of this model's series (per detector kind; see the model manager). */
  readonly deciderOptions: DeciderOptions;
  /** `JSON.stringify` of the resolved decider options (to tell whether a saved decider still fits). */
  readonly deciderKey: string;
  /** Wall-clock time it went into service (ms). */
  readonly since: number;
  readonly source: ModelSource;
  /** Arrived as a rollback (`sluice.rollback: 1`). */
  readonly rollback: boolean;
  readonly stats: ModelStats;
}

/** The models of an instance at one moment. Never mutated: a swap makes a new table. */
export interface ModelTable {
  /** Live models by name. */
  readonly live: ReadonlyMap<string, LiveModel>;
  /** Shadow models by the name of the live model they shadow. */
  readonly shadows: ReadonlyMap<string, LiveModel>;
  /** Increases with every new table (lets callers cache routing decisions). */
  readonly generation: number;
}

/** The table before any model is loaded. */
export const EMPTY_TABLE: ModelTable = Object.freeze({ live: new Map(), shadows: new Map(), generation: 0 });

/** The most specific live model for a device (and its class, when it has one), or null. */
export function route(table: ModelTable, deviceId: string, className: string | undefined): LiveModel | null {
  const live = table.live;
  if (live.size === 0) return null;
  return live.get(deviceModelName(deviceId)) ?? (className === undefined ? undefined : live.get(classModelName(className))) ?? live.get(DEFAULT_MODEL) ?? null;
}

/**
 * Ensemble members for a record: the live models among `names` (in that order) when given, else
 * every live model that applies to the device (device, class, default).
 */
export function members(table: ModelTable, names: readonly string[] | null, deviceId: string, className: string | undefined): LiveModel[] {
  const out: LiveModel[] = [];
  const add = (name: string): void => {
    const m = table.live.get(name);
    if (m !== undefined) out.push(m);
  };
  if (names !== null) {
    for (const n of names) add(n);
    return out;
  }
  add(deviceModelName(deviceId));
  if (className !== undefined) add(classModelName(className));
  add(DEFAULT_MODEL);
  return out;
}
