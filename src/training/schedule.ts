/**
 * Training on a schedule: a run at start, then another each time one is due — every `everyMs` of
 * clock time since the last run started, or every `everyRecords` records appended to the telemetry
 * topic since the last run started (counted by the partitions' end offsets, so records appended
 * while a run reads count toward the next one; on Kafka, transaction markers count too). Due-ness is
 * checked every `checkIntervalMs`. Time comes from the injected clock and waits from the injected
 * sleep, so tests run the schedule in virtual time.
 *
 * A run that fails (an empty range included) is reported and the schedule goes on; a stop ends the
 * schedule, also in the middle of a run (TRAINING_ABORTED from the run is the normal way out).
 */
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import type { Log } from '../log/index.ts';
import { systemClock } from '../stream/clock.ts';
import type { TrainingOptionsInput } from './options.ts';
import type { TrainingReport } from './report.ts';
import { trainOnce, type TrainerContext } from './trainer.ts';
import { pause } from '../util/pause.ts';

/** When scheduled runs are due: by elapsed time or by new records. */
export type TrainingSchedule = { readonly everyMs: number } | { readonly everyRecords: number };

/** Decides when the next scheduled run is due. */
export class TrainingTrigger {
  readonly #schedule: TrainingSchedule;
  #startedAt = 0;
  #records = 0;

  constructor(schedule: TrainingSchedule) {
    this.#schedule = schedule;
  }

  /** Notes that a run starts at `now` with the topic holding `records` records (end offsets summed). */
  started(now: number, records: number): void {
    this.#startedAt = now;
    this.#records = records;
  }

  /** True when a run is due at `now` with `records` records in the topic. */
  due(now: number, records: number): boolean {
    return 'everyMs' in this.#schedule ? now - this.#startedAt >= this.#schedule.everyMs : records - this.#records >= this.#schedule.everyRecords;
  }
}

/** One scheduled run's result: its report, or why it failed. */
export type ScheduledRun = { readonly report: TrainingReport } | { readonly error: Error };

/** Options of {@link runTrainingSchedule}. */
export interface ScheduleOptions {
  readonly schedule: TrainingSchedule;
  /** How often due-ness is checked, ms. Default 1,000. */
  readonly checkIntervalMs?: number;
  /** Waits `ms` or until `signal` aborts. Default: a timer. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called after every run. */
  readonly onRun?: (run: ScheduledRun) => void;
  /** Called after every check that found no run due (for status lines). */
  readonly onWait?: (newRecords: number, sinceLastRunMs: number) => void;
}

/** Runs training at start and whenever due (see the file comment) until the context's signal aborts. */
export async function runTrainingSchedule(context: TrainerContext & { readonly signal: AbortSignal }, options: TrainingOptionsInput, schedule: ScheduleOptions): Promise<void> {
  const clock = context.clock ?? systemClock;
  const sleep = schedule.sleep ?? pause;
  const checkIntervalMs = schedule.checkIntervalMs ?? 1_000;
  const topic = options.topic ?? 'telemetry';
  const trigger = new TrainingTrigger(checkSchedule(schedule.schedule, checkIntervalMs));
  while (!context.signal.aborted) {
    const baseline = await countRecords(context.log, topic);
    const startedAt = clock.now();
    trigger.started(startedAt, baseline);
    try {
      schedule.onRun?.({ report: await trainOnce(context, options) });
    } catch (error) {
      if (isSluiceError(error, ErrorCode.TRAINING_ABORTED)) return;
      schedule.onRun?.({ error: error as Error });
    }
    for (;;) {
      await sleep(checkIntervalMs, context.signal);
      if (context.signal.aborted) return;
      const records = await countRecords(context.log, topic);
      if (trigger.due(clock.now(), records)) break;
      schedule.onWait?.(records - baseline, clock.now() - startedAt);
    }
  }
}

/** Records ever appended to `topic`: its partitions' end offsets summed (0 when it does not exist yet). */
export async function countRecords(log: Log, topic: string): Promise<number> {
  try {
    return (await log.admin.describeTopic(topic)).partitions.reduce((sum, p) => sum + p.endOffset, 0);
  } catch (error) {
    if (isSluiceError(error, ErrorCode.LOG_UNKNOWN_TOPIC)) return 0;
    throw error;
  }
}

/** CONFIG_INVALID naming the path unless the schedule has exactly one positive integer period. */
function checkSchedule(schedule: TrainingSchedule, checkIntervalMs: number): TrainingSchedule {
  const bad = (path: string, reason: string): SluiceError => new SluiceError(ErrorCode.CONFIG_INVALID, `/training/schedule${path} ${reason}`, { details: { path: `/training/schedule${path}` } });
  const keys = schedule === null || typeof schedule !== 'object' ? [] : Object.keys(schedule);
  if (keys.length !== 1 || (keys[0] !== 'everyMs' && keys[0] !== 'everyRecords')) throw bad('', 'must be { everyMs } or { everyRecords }');
  const value = (schedule as Record<string, unknown>)[keys[0]!];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw bad(`/${keys[0]}`, `must be an integer ≥ 1, got ${String(value)}`);
  if (!Number.isSafeInteger(checkIntervalMs) || checkIntervalMs < 1) throw bad('/checkIntervalMs', `must be an integer ≥ 1, got ${String(checkIntervalMs)}`);
  return schedule;
}
