/**
 * The model manager of one serving instance: it takes model descriptors (records of the `models`
 * topic, the store's latest versions, configured shadows), loads and checks each off the hot path,
 * and swaps it in atomically by replacing the whole {@link ModelTable}.
 *
 * A descriptor goes through: JSON and structure → record key (the name, or `<name>@shadow` for a
 * shadow candidate) → version rules → load (payload, size, sha256, parameters; `loadModelAsync`,
 * payload references resolved against the store) → probe (probe.ts) → swap. Each stage runs after
 * a turn of the event loop, so scoring goes on meanwhile and records are scored by the previous
 * model until the new table is in place. Only while no `default` model serves does a model of a
 * name not served yet hold back the tasks' data until it is loaded (or rejected): records published
 * after it are then scored by it instead of finding no model.
 *
 * Version rules (the models-topic contract, model/models-topic.ts `supersedes`): a live descriptor
 * is taken only if its version is above the one served for its name, unless it carries
 * `sluice.rollback: 1`; the same version with the same checksum is a no-op (a replay). A shadow
 * candidate is taken if it is above the live version of its name and above the current shadow. A live version at or above the shadow's retires the shadow
 * (`promoted` when equal). Descriptors of one name are handled one at a time, in arrival order;
 * different names load concurrently.
 *
 * A load that takes longer than `loadTimeoutMs` is rejected (reason `load`), so one stuck load
 * cannot block its name's later descriptors, or hold data back, for longer than that.
 *
 * The instance's control listener offers every record of the models topic (with or without
 * tasks), and every task's processor offers it again (new tasks get the latest per key replayed):
 * the manager takes each record once, by its position in the models topic.
 *
 * A rejected descriptor is logged (`model rejected`, with the reason and the error) and counted by
 * reason; the table does not change, so the current model keeps serving. Nothing here throws.
 */
import { ErrorCode, isSluiceError, SluiceError } from '../errors.ts';
import {
  checkDescriptorStructure,
  createDecider,
  headerFlag,
  loadModelAsync,
  ModelFormat,
  ModelHeader,
  modelNameOfKey,
  ONNX_FACTORY_KIND,
  shadowKey,
  supersedes,
  type DeciderOptions,
  type DetectorRegistry,
  type ModelDescriptor,
  type ModelStore,
} from '../model/index.ts';
import type { Clock } from '../stream/index.ts';
import { IgnoreReason, RejectReason, type ServingCounters } from './counters.ts';
import { DEFAULT_MODEL, EMPTY_TABLE, ModelStats, type LiveModel, type ModelRole, type ModelSource, type ModelTable } from './live-model.ts';
import type { ServingLogger } from './logger.ts';
import type { ModelRecord } from './models-topic.ts';
import { ObservationSample, probeBatch, probeModel } from './probe.ts';

/** What the manager needs. */
export interface ModelManagerOptions {
  readonly store: ModelStore;
  readonly registry: DetectorRegistry;
  readonly maxPayloadBytes: number;
  /** The service's decider options (see {@link deciderOptionsFor}). */
  readonly decider: DeciderOptions;
  readonly probeRecords: number;
  /** Longest a load may take before the descriptor is rejected (reason `load`). */
  readonly loadTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: ServingLogger;
  readonly counters: ServingCounters;
}

/** How a descriptor reached the manager. */
interface Arrival {
  readonly role: ModelRole;
  readonly rollback: boolean;
  readonly source: ModelSource;
  readonly origin: ModelRecord['origin'] | null;
}

/** Retired model versions kept for reporting. */
const RETIRED_KEPT = 20;

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Loads, checks and swaps models (see the file comment). */
export class ModelManager {
  readonly #o: ModelManagerOptions;
  #table: ModelTable = EMPTY_TABLE;
  /** Next offset to take, per models topic partition. */
  readonly #positions = new Map<string, number>();
  /** The tail of each name's queue of descriptors. */
  readonly #queues = new Map<string, Promise<void>>();
  /** Records whose handling holds back data (see {@link offer}), by `topic/partition/offset`. */
  readonly #holds = new Map<string, Promise<void>>();
  #pending = 0;
  #idle: (() => void)[] = [];
  /** Recent telemetry for the probes (fed by the processors). */
  readonly sample = new ObservationSample();
  /** Versions taken out of service, newest last (at most 20). */
  readonly retired: LiveModel[] = [];

  constructor(options: ModelManagerOptions) {
    this.#o = options;
  }

  /** The models in service now. */
  get table(): ModelTable {
    return this.#table;
  }

  /**
   * Takes a record of the models topic (a control-stream record), unless a record at or after its
   * position was taken already; its load runs in the background. Returns a promise (settling when
   * the record has been handled; never rejecting) when the caller should hold back its data until
   * then: the record is a live model of a name not served yet while no `default` model serves, so
   * records it would score have no model meanwhile (see {@link mustWait}). Never throws.
   */
  offer(record: ModelRecord): Promise<void> | undefined {
    const id = `${record.origin.topic}/${record.origin.partition}/${record.origin.offset}`;
    if (!this.#take(record)) return this.#holds.get(id);
    const queue = modelNameOfKey(record.key ?? '');
    const hold = mustWait(this.#table, record);
    this.#pending++;
    const previous = this.#queues.get(queue) ?? Promise.resolve();
    const next: Promise<void> = previous.then(async () => void (await this.#fromRecord(record))).finally(() => this.#done(queue, next));
    this.#queues.set(queue, next);
    if (!hold) return undefined;
    this.#holds.set(id, next);
    void next.finally(() => this.#holds.delete(id));
    return next;
  }

  /** Takes the records read at start, one after the other (awaiting each load). */
  async boot(records: readonly ModelRecord[]): Promise<void> {
    for (const r of records) if (this.#take(r)) await this.#fromRecord(r);
  }

  /**
   * Serves version `version` (default: the latest) of `name` from the store, as the live model or
   * as a shadow; false when it is not stored or was rejected.
   */
  async fromStore(name: string, version: number | undefined, role: ModelRole): Promise<boolean> {
    const source: ModelSource = role === 'shadow' ? 'config' : 'store';
    let d: ModelDescriptor | null;
    try {
      d = version === undefined ? await this.#o.store.latest(name) : await this.#o.store.get(name, version);
    } catch (error) {
      this.#reject(error, { name, version: version ?? null }, null);
      return false;
    }
    if (d === null) return false;
    return this.#consider(d, { role, rollback: false, source, origin: null });
  }

  /** Resolves once every descriptor taken so far has been handled. */
  settled(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #take(record: ModelRecord): boolean {
    const where = `${record.origin.topic}/${record.origin.partition}`;
    if (record.origin.offset < (this.#positions.get(where) ?? 0)) return false;
    this.#positions.set(where, record.origin.offset + 1);
    return true;
  }

  #done(queue: string, tail: Promise<void>): void {
    if (this.#queues.get(queue) === tail) this.#queues.delete(queue);
    if (--this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #fromRecord(record: ModelRecord): Promise<boolean> {
    const shadow = headerFlag(record.headers, ModelHeader.shadow);
    const arrival: Arrival = { role: shadow ? 'shadow' : 'live', rollback: headerFlag(record.headers, ModelHeader.rollback), source: 'topic', origin: record.origin };
    let d: ModelDescriptor;
    try {
      d = checkDescriptorStructure(JSON.parse(decoder.decode(record.value)));
    } catch (error) {
      const cause = isSluiceError(error) ? error : new SluiceError(ErrorCode.MODEL_INVALID, `model descriptor: not UTF-8 JSON: ${(error as Error).message}`, { cause: error });
      this.#reject(cause, { name: record.key, version: null }, record.origin);
      return false;
    }
    const expected = shadow ? shadowKey(d.name) : d.name;
    if (record.key !== null && record.key !== expected) {
      this.#reject(new Error(`record key '${record.key}' should be '${expected}'`), d, record.origin, RejectReason.keyMismatch);
      return false;
    }
    return this.#consider(d, arrival);
  }

  async #consider(d: ModelDescriptor, arrival: Arrival): Promise<boolean> {
    const { counters, logger } = this.#o;
    const table = this.#table;
    const live = table.live.get(d.name);
    const current = arrival.role === 'shadow' ? table.shadows.get(d.name) : live;
    if (current !== undefined && current.version === d.version && current.descriptor.sha256 === d.sha256) return true;
    const where = arrival.origin === null ? {} : { partition: arrival.origin.partition, offset: arrival.origin.offset };
    if (!supersedes(current?.version, d.version, arrival.rollback && arrival.role === 'live')) {
      counters.ignored[IgnoreReason.notNewer]++;
      logger.log('info', 'model ignored', { name: d.name, version: d.version, serving: current!.version, role: arrival.role, reason: IgnoreReason.notNewer, ...where });
      return false;
    }
    if (arrival.role === 'shadow' && !supersedes(live?.version, d.version, false)) {
      counters.ignored[IgnoreReason.shadowNotNewer]++;
      logger.log('info', 'model ignored', { name: d.name, version: d.version, serving: live!.version, role: 'shadow', reason: IgnoreReason.shadowNotNewer, ...where });
      return false;
    }
    const started = performance.now();
    let model;
    try {
      await turn();
      model = await withTimeout(loadModelAsync(d, { registry: this.#o.registry, maxPayloadBytes: this.#o.maxPayloadBytes, baseDir: this.#o.store.dir }), this.#o.loadTimeoutMs);
      await turn();
      probeModel(model, probeBatch(d.features.metrics, this.sample.list(), this.#o.probeRecords, this.#o.clock.now()));
    } catch (error) {
      this.#reject(error, d, arrival.origin);
      return false;
    }
    const deciderOptions = deciderOptionsFor(d, this.#o.registry, this.#o.decider);
    const loaded: LiveModel = {
      name: d.name,
      version: d.version,
      role: arrival.role,
      descriptor: d,
      model,
      deciderOptions,
      deciderKey: JSON.stringify(createDecider(deciderOptions).options),
      since: this.#o.clock.now(),
      source: arrival.source,
      rollback: arrival.rollback,
      stats: new ModelStats(),
    };
    this.#install(loaded, performance.now() - started, where);
    return true;
  }

  #install(m: LiveModel, loadMs: number, where: Record<string, number>): void {
    const { counters, logger } = this.#o;
    const table = this.#table;
    const live = new Map(table.live);
    const shadows = new Map(table.shadows);
    const previous = (m.role === 'live' ? live : shadows).get(m.name);
    if (m.role === 'live') {
      live.set(m.name, m);
      const shadow = shadows.get(m.name);
      if (shadow !== undefined && shadow.version <= m.version) {
        shadows.delete(m.name);
        this.#retire(shadow);
        logger.log('info', 'shadow retired', { name: m.name, version: shadow.version, reason: shadow.version === m.version ? 'promoted' : 'superseded' });
      }
    } else {
      shadows.set(m.name, m);
    }
    if (previous !== undefined) this.#retire(previous);
    this.#table = { live, shadows, generation: table.generation + 1 };
    counters.swapped(m.name);
    logger.log('info', m.role === 'live' ? 'model swapped' : 'shadow started', {
      name: m.name,
      version: m.version,
      previous: previous?.version ?? null,
      kind: m.descriptor.kind,
      rollback: m.rollback,
      source: m.source,
      loadMs: Math.round(loadMs * 1000) / 1000,
      ...where,
    });
  }

  #retire(m: LiveModel): void {
    this.retired.push(m);
    if (this.retired.length > RETIRED_KEPT) this.retired.shift();
  }

  #reject(error: unknown, d: { readonly name: string | null; readonly version: number | null }, origin: ModelRecord['origin'] | null, reason = rejectReason(error)): void {
    this.#o.counters.rejections[reason]++;
    this.#o.logger.log('warn', 'model rejected', {
      name: d.name,
      version: d.version,
      reason,
      code: (error as { code?: unknown })?.code ?? null,
      error: error instanceof Error ? error.message : String(error),
      ...(origin === null ? {} : { partition: origin.partition, offset: origin.offset }),
    });
  }
}

/**
 * Whether data should wait for `record`: a live descriptor (not a shadow) of a name the table does
 * not serve, while no `default` model serves (so some records may have no model until it loads).
 * With a `default` in service every record has a model, and no load holds data back.
 */
function mustWait(table: ModelTable, record: ModelRecord): boolean {
  if (table.live.has(DEFAULT_MODEL) || record.key === null || headerFlag(record.headers, ModelHeader.shadow)) return false;
  return !table.live.has(record.key);
}

/**
 * Decider options for a model's series: the service's options; for a detector whose scores are
 * already likelihoods (`calibrated`, e.g. sluice-nab) the defaults become "threshold the score at
 * the detector's own alarm level, no warm-up", which the service's options may still override.
 */
export function deciderOptionsFor(d: ModelDescriptor, registry: DetectorRegistry, decider: DeciderOptions): DeciderOptions {
  const factory = registry.get(d.format === ModelFormat.ONNX ? ONNX_FACTORY_KIND : d.kind);
  const alarm = factory?.calibrated?.alarm;
  return alarm === undefined ? { ...decider } : { calibration: 'none', high: alarm, low: alarm, warmup: 0, ...decider };
}

function rejectReason(error: unknown): RejectReason {
  switch ((error as { code?: unknown })?.code) {
    case ErrorCode.MODEL_INVALID:
      return RejectReason.invalid;
    case ErrorCode.MODEL_UNKNOWN_KIND:
    case ErrorCode.MODEL_UNKNOWN_FORMAT:
      return RejectReason.unknownKind;
    case ErrorCode.MODEL_CHECKSUM_MISMATCH:
      return RejectReason.checksum;
    case ErrorCode.MODEL_TOO_LARGE:
      return RejectReason.tooLarge;
    case ErrorCode.MODEL_FEATURE_MISMATCH:
      return RejectReason.features;
    case ErrorCode.MODEL_NOT_FOUND:
      return RejectReason.payloadMissing;
    case ErrorCode.SERVING_PROBE_FAILED:
      return RejectReason.probe;
    default:
      return RejectReason.load;
  }
}

/** `load`, or a rejection once `ms` have passed (the load itself cannot be cancelled; its result is then dropped). */
function withTimeout<T>(load: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the model did not load within ${ms} ms`)), ms);
  });
  return Promise.race([load, late]).finally(() => clearTimeout(timer));
}

/** Lets the event loop run (pending batches get scored) before the next stage of a load. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
