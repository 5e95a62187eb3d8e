/**
 * The training layer's public face: `trainOnce` (read a range of telemetry, fit per class, device or
 * fleet, evaluate against the live model, publish to the model store and the models topic) and
 * `runTrainingSchedule` (the same, every N minutes or every N new records), with their options,
 * report and the range helpers. docs/training.md describes the evaluation.
 */
export { trainOnce, type TrainerContext } from './trainer.ts';
export { runTrainingSchedule, countRecords, TrainingTrigger, type ScheduleOptions, type ScheduledRun, type TrainingSchedule } from './schedule.ts';
export {
  GroupBy,
  TRAINING_DEFAULTS,
  resolveTrainingOptions,
  type EvaluationOptions,
  type Tolerance,
  type TrainingOptions,
  type TrainingOptionsInput,
} from './options.ts';
export {
  checkRange,
  describeRange,
  formatTime,
  parseDuration,
  parseOffsetBound,
  parseTimeBound,
  resolveRange,
  type OffsetBound,
  type ResolvedRange,
  type TrainingRange,
} from './range.ts';
export { ModelStatus, type ModelOutcome, type TrainingProgress, type TrainingReport } from './report.ts';
export { FLEET_MODEL, modelNameFor, type SkippedGroup } from './groups.ts';
export { AnomalyShape, type InjectedAnomaly } from './inject.ts';
export type { ModelEvaluation } from './evaluate.ts';
export type { PartitionRead } from './reader.ts';
export type { SamplingLimits } from './sampler.ts';
