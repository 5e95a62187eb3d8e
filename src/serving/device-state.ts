/**
 * Per-device state: what each device's series has learnt under each model that scores it (the
 * detector's online state and the decider's), kept in the serving topology's state store, so that
 * its changelog restores it when a task restarts or moves to another instance.
 *
 * A device's slot holds one series state per role: `live` (the model routed to), `m:<name>`
 * (ensemble members) and `s:<name>` (the shadow of model `<name>`). Each remembers the model it
 * belongs to (name, version, kind, features).
 *
 * Carry-over, when the model scoring a device changes (new version, rollback, or a more specific
 * model appearing for it):
 * - same name and version (state restored from the changelog): the saved state is rebuilt
 *   (`restored`);
 * - the device's shadow state of exactly the new version exists (the shadow was promoted): it
 *   becomes the live state (`adopted`) — it learnt from the same records;
 * - same detector kind and the same features, in the same order: the learnt state is carried over
 *   through `stateToJSON` → `stateFromJSON` of the new model, and the decider is kept when its
 *   options are the same (`kept`) — the device does not warm up again;
 * - otherwise (another kind, other features, nothing before): a fresh state and decider (`fresh`),
 *   which warm up again; a state the new model refuses is replaced the same way (`reset`).
 * A carried state holds what the old model learnt: for the half-space trees, mass profiles
 * collected under the old model's ranges, replaced within one window of records.
 *
 * Changelog value (UTF-8 JSON): `{"v":1,"deviceId":…,"series":{"live":{"model":{"name","version",
 * "kind","features"},"state":…,"decider":…}}}`.
 */
import { decodeError, type Codec } from '../log/index.ts';
import { createDecider, deciderFromJSON, type Decider, type DetectorModel, type JsonValue } from '../model/index.ts';
import { CarryOver, type ServingCounters } from './counters.ts';
import type { LiveModel } from './live-model.ts';

/** Role key of the live series of a device. */
export const LIVE_SERIES = 'live';

/** Role key of an ensemble member's series. */
export function memberSeries(name: string): string {
  return `m:${name}`;
}

/** Role key of the series of model `name`'s shadow. */
export function shadowSeries(name: string): string {
  return `s:${name}`;
}

/** The model a series state belongs to. */
export interface SeriesModelRef {
  readonly name: string;
  readonly version: number;
  readonly kind: string;
  readonly features: readonly string[];
}

/** A series state as saved in the changelog. */
interface SavedSeries {
  readonly model: SeriesModelRef;
  readonly state: JsonValue;
  readonly decider: JsonValue;
}

/** One series' state under one model: live (model, state, decider) or only saved (after a restore). */
export class SeriesState {
  readonly ref: SeriesModelRef;
  /** The model `state` belongs to; null while only `saved` is there. */
  readonly model: DetectorModel | null;
  readonly state: unknown;
  readonly decider: Decider | null;
  /** Key of the decider's options (`LiveModel.deciderKey`), or null. */
  readonly deciderKey: string | null;
  readonly saved: SavedSeries | null;

  constructor(ref: SeriesModelRef, live: { model: DetectorModel; state: unknown; decider: Decider; deciderKey: string } | null, saved: SavedSeries | null) {
    this.ref = ref;
    this.model = live?.model ?? null;
    this.state = live?.state ?? null;
    this.decider = live?.decider ?? null;
    this.deciderKey = live?.deciderKey ?? null;
    this.saved = saved;
  }

  /** The saved form (live state serialised). */
  toSaved(): SavedSeries {
    if (this.model === null) return this.saved!;
    return { model: this.ref, state: this.model.stateToJSON(this.state), decider: this.decider!.toJSON() };
  }
}

/** A device's slot in the state store. */
export class DeviceSlot {
  readonly deviceId: string;
  /** Series states by role key. */
  readonly series = new Map<string, SeriesState>();
  /** Routing cache (processor.ts): the table generation and class it was computed for. */
  routeGeneration = -1;
  routeClass: string | undefined = undefined;
  route: LiveModel | null = null;
  ensemble: LiveModel[] = [];

  constructor(deviceId: string) {
    this.deviceId = deviceId;
  }
}

/** The series state of role `key` under model `m`, converting or creating it as needed (see the file comment). */
export function attach(slot: DeviceSlot, key: string, m: LiveModel, counters: ServingCounters): SeriesState {
  const s = slot.series.get(key);
  if (s !== undefined && s.model === m.model) return s;
  const next = transition(slot, key, s, m, counters);
  slot.series.set(key, next);
  return next;
}

function transition(slot: DeviceSlot, key: string, s: SeriesState | undefined, m: LiveModel, counters: ServingCounters): SeriesState {
  const c = counters.carryOver;
  const sk = shadowSeries(m.name);
  const shadow = key === sk ? undefined : slot.series.get(sk);
  if (shadow !== undefined && shadow.ref.name === m.name && shadow.ref.version === m.version) {
    slot.series.delete(sk);
    const adopted = convert(shadow, m);
    if (adopted !== null) {
      c[CarryOver.adopted]++;
      return adopted;
    }
  }
  if (s !== undefined) {
    const restoring = s.model === null && s.ref.name === m.name && s.ref.version === m.version;
    if (restoring || (s.ref.kind === m.descriptor.kind && sameList(s.ref.features, m.descriptor.features.metrics))) {
      const converted = convert(s, m);
      if (converted !== null) {
        c[restoring ? CarryOver.restored : CarryOver.kept]++;
        return converted;
      }
      c[CarryOver.reset]++;
      return fresh(m);
    }
  }
  c[CarryOver.fresh]++;
  return fresh(m);
}

function refOf(m: LiveModel): SeriesModelRef {
  return { name: m.name, version: m.version, kind: m.descriptor.kind, features: m.descriptor.features.metrics };
}

function fresh(m: LiveModel): SeriesState {
  return new SeriesState(refOf(m), { model: m.model, state: m.model.newState(), decider: createDecider(m.deciderOptions), deciderKey: m.deciderKey }, null);
}

/** `s` rebuilt under `m` (state through JSON; the decider kept when its options match), or null if `m` refuses the state. */
function convert(s: SeriesState, m: LiveModel): SeriesState | null {
  let state: unknown;
  let decider: Decider | null = null;
  try {
    const saved = s.model === null ? s.saved! : null;
    state = m.model.stateFromJSON(saved?.state ?? s.model!.stateToJSON(s.state));
    if (saved !== null) {
      const d = deciderFromJSON(saved.decider);
      if (JSON.stringify(d.options) === m.deciderKey) decider = d;
    } else if (s.deciderKey === m.deciderKey) {
      decider = s.decider;
    }
  } catch {
    return null;
  }
  return new SeriesState(refOf(m), { model: m.model, state, decider: decider ?? createDecider(m.deciderOptions), deciderKey: m.deciderKey }, null);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The state store's value codec: a device slot as changelog JSON (see the file comment). */
export const deviceSlotCodec: Codec<DeviceSlot> = {
  name: 'device-state',
  encode(slot) {
    const series: Record<string, SavedSeries> = {};
    for (const [key, s] of slot.series) series[key] = s.toSaved();
    return encoder.encode(JSON.stringify({ v: 1, deviceId: slot.deviceId, series }));
  },
  decode(bytes) {
    let json: { v?: unknown; deviceId?: unknown; series?: unknown };
    try {
      json = JSON.parse(decoder.decode(bytes)) as typeof json;
    } catch (error) {
      throw decodeError('device-state', `not JSON: ${(error as Error).message}`, undefined, error);
    }
    if (json?.v !== 1 || typeof json.deviceId !== 'string' || typeof json.series !== 'object' || json.series === null) {
      throw decodeError('device-state', 'expected {"v":1,"deviceId":…,"series":{…}}');
    }
    const slot = new DeviceSlot(json.deviceId);
    for (const [key, raw] of Object.entries(json.series as Record<string, SavedSeries>)) {
      const ref = raw?.model;
      if (typeof ref?.name !== 'string' || typeof ref.version !== 'number' || typeof ref.kind !== 'string' || !Array.isArray(ref.features)) {
        throw decodeError('device-state', `series '${key}': model must be {name, version, kind, features}`);
      }
      slot.series.set(key, new SeriesState(ref, null, raw));
    }
    return slot;
  },
};
