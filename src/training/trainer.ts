/**
 * One training run: read the range of telemetry (bounded), group the devices into models, fit and
 * evaluate each candidate (on a worker thread by default) against the live model, and publish the
 * ones that are not worse — store first, then the models topic — with their data range, record
 * count, parent version and evaluation figures in the descriptor.
 *
 * A stop (the context's signal) is honoured between steps: while reading, before each model, and
 * before each publish, never between a model's store write and its topic append, so the store never
 * holds a newer version than the topic because of a stop.
 */
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import type { Log, Producer } from '../log/index.ts';
import { createDescriptor } from '../model/descriptor-create.ts';
import type { ModelDescriptor } from '../model/descriptor.ts';
import type { ModelStore } from '../model/store.ts';
import { systemClock, type Clock } from '../stream/clock.ts';
import { throwIfAborted } from './abort.ts';
import { judge, type Verdict } from './evaluate.ts';
import { groupSeries, type ModelGroup } from './groups.ts';
import type { JobResult } from './job.ts';
import { readLiveModels, type LiveModels } from './live.ts';
import { resolveTrainingOptions, type TrainingOptions, type TrainingOptionsInput } from './options.ts';
import { ensureModelsTopic, publishModel } from './publish.ts';
import { describeRange, resolveRange, type ResolvedRange } from './range.ts';
import { readTelemetryRange, type RangeRead } from './reader.ts';
import { ModelStatus, type ModelOutcome, type TrainingProgress, type TrainingReport } from './report.ts';
import { inProcessRunner, workerRunner, type JobRunner } from './runner.ts';

/** What a training run works with. */
export interface TrainerContext {
  readonly log: Log;
  readonly store: ModelStore;
  /** Time for `createdAt`, relative ranges and durations. Default: the system clock. */
  readonly clock?: Clock;
  /** Aborting it stops the run (TRAINING_ABORTED). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TrainingProgress) => void;
}

/**
 * Runs one training (see the file comment) and returns its report. Throws CONFIG_INVALID for bad
 * options, TRAINING_INVALID_RANGE for a bad range, TRAINING_EMPTY_RANGE when the range holds no
 * telemetry (nothing is published), TRAINING_ABORTED when stopped; a model whose fit or evaluation
 * fails is reported as failed and the others go on.
 */
export async function trainOnce(context: TrainerContext, input: TrainingOptionsInput = {}): Promise<TrainingReport> {
  const options = resolveTrainingOptions(input);
  const clock = context.clock ?? systemClock;
  const startedAt = clock.now();
  const range = resolveRange(options.range, startedAt);
  const read = await readTelemetryRange(context.log, {
    topic: options.topic,
    range,
    classTag: options.classTag,
    sampling: options.sampling,
    pollTimeoutMs: options.pollTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs,
    signal: context.signal,
    onProgress: (p) => context.onProgress?.({ phase: 'read', ...p }),
  });
  if (read.records === 0) throw emptyRange(options, range, read);

  const { groups, skipped } = groupSeries(read.series, options.per, options.classTag, options.minRecords);
  const live = await readLiveModels(context.log, options.modelsTopic, context.store, new Set(groups.map((g) => g.name)), {
    pollTimeoutMs: options.pollTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs,
    signal: context.signal,
  });
  const runner = options.worker ? workerRunner() : inProcessRunner();
  const publisher = new Publisher(context, options);
  const models: ModelOutcome[] = [];
  try {
    for (const [index, group] of groups.entries()) {
      throwIfAborted(context.signal);
      const outcome = await trainModel({ context, options, runner, live, publisher, group, index, of: groups.length, clock });
      models.push(outcome);
      context.onProgress?.({ phase: 'done', outcome });
    }
  } finally {
    await runner.close();
    await publisher.close();
  }
  return {
    topic: options.topic,
    detector: options.detector,
    per: options.per,
    range,
    startedAt,
    durationMs: clock.now() - startedAt,
    read: {
      records: read.records,
      invalid: read.invalid,
      kept: read.sampling.kept,
      dropped: read.sampling.dropped,
      skippedOverSeriesLimit: read.sampling.skippedOverSeriesLimit,
      devices: read.series.length,
      partitions: read.partitions,
    },
    models,
    skipped,
    published: models.filter((m) => m.status === ModelStatus.PUBLISHED).length,
  };
}

interface ModelStep {
  readonly context: TrainerContext;
  readonly options: TrainingOptions;
  readonly runner: JobRunner;
  readonly live: LiveModels;
  readonly publisher: Publisher;
  readonly group: ModelGroup;
  readonly index: number;
  readonly of: number;
  readonly clock: Clock;
}

async function trainModel(step: ModelStep): Promise<ModelOutcome> {
  const { context, options, group } = step;
  const failed = (parentVersion: number | null, reason: string): ModelOutcome => ({
    name: group.name,
    devices: group.series.length,
    parentVersion,
    status: ModelStatus.FAILED,
    reason,
    version: null,
    trainedOn: null,
    heldOutRecords: 0,
    injectedAnomalies: 0,
    candidate: null,
    live: null,
  });
  let liveDescriptor;
  try {
    liveDescriptor = await step.live.live(group.name);
  } catch (error) {
    return failed(null, `cannot read the live model: ${(error as Error).message}`);
  }
  const parentVersion = liveDescriptor?.version ?? null;
  context.onProgress?.({ phase: 'fit', model: group.name, index: step.index, of: step.of, devices: group.series.length, records: group.records, liveVersion: parentVersion });
  let result: JobResult;
  try {
    result = await step.runner.run(
      {
        name: group.name,
        detector: options.detector,
        hyperparameters: options.hyperparameters,
        features: options.features,
        seed: options.seed,
        series: group.series,
        evaluation: options.evaluation,
        live: liveDescriptor === null ? null : { descriptor: liveDescriptor, baseDir: context.store.dir },
      },
      context.signal,
    );
  } catch (error) {
    if (isSluiceError(error, ErrorCode.TRAINING_ABORTED)) throw error;
    return failed(parentVersion, `fit or evaluation failed: ${(error as Error).message}`);
  }
  const verdict = decide(options, result, parentVersion);
  const version = await step.live.nextVersion(group.name);
  const outcome = {
    name: group.name,
    devices: group.series.length,
    parentVersion,
    version,
    trainedOn: result.trainedOn,
    heldOutRecords: result.heldOutRecords,
    injectedAnomalies: result.injectedAnomalies,
    candidate: result.candidate,
    live: result.live,
    reason: verdict.reason,
  };
  if (options.dryRun) return { ...outcome, status: verdict.publish ? ModelStatus.WOULD_PUBLISH : ModelStatus.WOULD_REJECT };
  if (!verdict.publish) return { ...outcome, status: ModelStatus.REJECTED };
  throwIfAborted(context.signal);
  const descriptor = createDescriptor({
    name: group.name,
    version,
    kind: result.kind,
    params: result.params,
    features: result.features,
    createdAt: step.clock.now(),
    trainedOn: { ...result.trainedOn, parentVersion },
    metrics: descriptorMetrics(result),
  });
  try {
    await step.publisher.publish(descriptor);
  } catch (error) {
    return { ...outcome, status: ModelStatus.FAILED, reason: `publishing failed: ${(error as Error).message}` };
  }
  return { ...outcome, status: ModelStatus.PUBLISHED };
}

function decide(options: TrainingOptions, result: JobResult, parentVersion: number | null): Verdict {
  if (options.force) return { publish: true, reason: 'forced (--force): published without comparing' };
  if (result.liveError !== null) {
    return { publish: true, reason: `the live model v${parentVersion} could not be evaluated (${result.liveError}); published in its place` };
  }
  return judge(result.candidate, result.live, options.evaluation.tolerance);
}

/** The evaluation figures a published descriptor carries in `metrics`. */
function descriptorMetrics(result: JobResult): Record<string, number> {
  const c = result.candidate;
  const metrics: Record<string, number> = {
    f1: c.f1,
    precision: c.precision,
    recall: c.recall,
    falseAlarmsPer1k: c.falseAlarmsPer1k,
    heldOutRecords: result.heldOutRecords,
    injectedAnomalies: result.injectedAnomalies,
    detectedAnomalies: c.detected,
  };
  if (result.live !== null) {
    metrics.liveF1 = result.live.f1;
    metrics.liveFalseAlarmsPer1k = result.live.falseAlarmsPer1k;
  }
  return metrics;
}

/** Publishes models of one run: the models topic is created and the producer opened on first use. */
class Publisher {
  readonly #context: TrainerContext;
  readonly #topic: string;
  #producer: Producer | null = null;

  constructor(context: TrainerContext, options: TrainingOptions) {
    this.#context = context;
    this.#topic = options.modelsTopic;
  }

  async publish(descriptor: ModelDescriptor): Promise<ModelDescriptor> {
    if (this.#producer === null) {
      await ensureModelsTopic(this.#context.log, this.#topic);
      this.#producer = this.#context.log.producer();
    }
    return publishModel(this.#context.store, this.#producer, this.#topic, descriptor);
  }

  async close(): Promise<void> {
    await this.#producer?.close();
  }
}

function emptyRange(options: TrainingOptions, range: ResolvedRange, read: RangeRead): SluiceError {
  const partitions = read.partitions.map((p) => `p${p.partition} [${p.fromOffset}, ${p.toOffset})`).join(', ');
  const invalid = read.invalid > 0 ? `; ${read.invalid} records in range were not valid telemetry` : '';
  return new SluiceError(
    ErrorCode.TRAINING_EMPTY_RANGE,
    `no telemetry in topic '${options.topic}' for ${describeRange(range)} (read ${partitions || 'no partitions'}${invalid}): nothing to train, nothing published`,
    { details: { topic: options.topic } },
  );
}
