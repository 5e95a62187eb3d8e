/**
 * One model's fit and evaluation as a self-contained job: plain data in, plain data out, so the
 * same code runs on the calling thread or on a worker thread (./runner.ts) and gives the same model
 * for the same seed.
 */
import type { ModelDescriptor } from '../model/descriptor.ts';
import { loadModelAsync } from '../model/descriptor-load.ts';
import { factoryFor } from '../model/descriptor-parse.ts';
import { detectorFactories, getDetectorFactory } from '../model/registry.ts';
import type { JsonValue } from '../model/types.ts';
import { evaluateModel, splitForEvaluation, trainingHistory, type ModelEvaluation } from './evaluate.ts';
import type { EvaluationOptions } from './options.ts';
import type { SeriesColumns } from './sampler.ts';

/** Everything needed to fit and evaluate one model. */
export interface TrainingJob {
  /** The model's name (also seeds the anomaly injection, with `seed`). */
  readonly name: string;
  readonly detector: string;
  readonly hyperparameters: Readonly<Record<string, JsonValue>>;
  /** Metric names; null: every metric of the series, sorted. */
  readonly features: readonly string[] | null;
  readonly seed: number;
  readonly series: readonly SeriesColumns[];
  readonly evaluation: EvaluationOptions;
  /** The live model to compare with, and where its `file:` payload references resolve. */
  readonly live: { readonly descriptor: ModelDescriptor; readonly baseDir: string } | null;
}

/** What a job produced. */
export interface JobResult {
  readonly name: string;
  readonly kind: string;
  readonly features: readonly string[];
  /** The fitted model's native parameters. */
  readonly params: JsonValue;
  /** Event times of the first and last training record, and how many there were. */
  readonly trainedOn: { readonly from: number | null; readonly to: number | null; readonly records: number };
  readonly heldOutRecords: number;
  readonly injectedAnomalies: number;
  readonly candidate: ModelEvaluation;
  /** The live model's evaluation on the same data, or null when there is none or it failed. */
  readonly live: ModelEvaluation | null;
  /** Why the live model could not be evaluated, or null. */
  readonly liveError: string | null;
}

/** Fits the job's model on the training part of its series and evaluates it and the live model. */
export async function runJob(job: TrainingJob): Promise<JobResult> {
  const factory = getDetectorFactory(job.detector);
  const split = splitForEvaluation(job.series, job.evaluation, job.seed ^ nameHash(job.name));
  const history = trainingHistory(split);
  const features = job.features === null ? metricsOf(job.series) : [...job.features];
  const model = factory.fit(history, { features, seed: job.seed, hyperparameters: job.hyperparameters });
  const candidate = evaluateModel(model, factory, split);

  let live: ModelEvaluation | null = null;
  let liveError: string | null = null;
  if (job.live !== null) {
    try {
      const liveModel = await loadModelAsync(job.live.descriptor, { registry: detectorFactories, baseDir: job.live.baseDir });
      live = evaluateModel(liveModel, factoryFor(job.live.descriptor, detectorFactories), split);
    } catch (error) {
      liveError = error instanceof Error ? error.message : String(error);
    }
  }
  let from: number | null = null;
  let to: number | null = null;
  for (const o of history) {
    if (from === null || o.ts < from) from = o.ts;
    if (to === null || o.ts > to) to = o.ts;
  }
  let heldOut = 0;
  let injected = 0;
  for (const s of split) {
    heldOut += s.clean.ts.length;
    injected += s.anomalies.length;
  }
  return {
    name: job.name,
    kind: model.kind,
    features: [...model.features],
    params: model.toParams(),
    trainedOn: { from, to, records: history.length },
    heldOutRecords: heldOut,
    injectedAnomalies: injected,
    candidate,
    live,
    liveError,
  };
}

/** Every metric of the series, sorted. */
function metricsOf(series: readonly SeriesColumns[]): string[] {
  const names = new Set<string>();
  for (const s of series) for (const name of Object.keys(s.values)) names.add(name);
  return [...names].sort();
}

/** FNV-1a of a string, 32 bits: each model gets its own injected anomalies from one seed. */
function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
