/** What a training run reports: progress while it runs, and the outcome of every model at the end. */
import type { ModelEvaluation } from './evaluate.ts';
import type { SkippedGroup } from './groups.ts';
import type { GroupBy } from './options.ts';
import type { ResolvedRange } from './range.ts';
import type { PartitionRead } from './reader.ts';

/** What happened to one model. */
export const ModelStatus = {
  /** Stored and appended to the models topic. */
  PUBLISHED: 'published',
  /** Worse than the live model beyond the tolerance: nothing published. */
  REJECTED: 'rejected',
  /** Fitting or evaluating failed: nothing published. */
  FAILED: 'failed',
  /** A dry run: evaluated, and would have been published. */
  WOULD_PUBLISH: 'would-publish',
  /** A dry run: evaluated, and would have been rejected. */
  WOULD_REJECT: 'would-reject',
} as const;
/** One of {@link ModelStatus}. */
export type ModelStatus = (typeof ModelStatus)[keyof typeof ModelStatus];

/** The outcome of one model of a run. */
export interface ModelOutcome {
  readonly name: string;
  readonly status: ModelStatus;
  /** Why it was (or would be) published or not. */
  readonly reason: string;
  /** The version published (or that would have been), or null when it failed. */
  readonly version: number | null;
  /** The live version it was compared with and replaces, or null. */
  readonly parentVersion: number | null;
  readonly devices: number;
  /** Training records, and the event times of the first and last. */
  readonly trainedOn: { readonly from: number | null; readonly to: number | null; readonly records: number } | null;
  readonly heldOutRecords: number;
  readonly injectedAnomalies: number;
  readonly candidate: ModelEvaluation | null;
  readonly live: ModelEvaluation | null;
}

/** The summary of one training run. */
export interface TrainingReport {
  readonly topic: string;
  readonly detector: string;
  readonly per: GroupBy;
  readonly range: ResolvedRange;
  /** Clock time at the start of the run, ms. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly read: {
    /** Valid telemetry records in range. */
    readonly records: number;
    /** Records in range that were not valid telemetry. */
    readonly invalid: number;
    /** Records held for training (after the sampling caps). */
    readonly kept: number;
    /** Older records dropped by the caps. */
    readonly dropped: number;
    /** Records of devices beyond the device cap. */
    readonly skippedOverSeriesLimit: number;
    readonly devices: number;
    readonly partitions: readonly PartitionRead[];
  };
  readonly models: readonly ModelOutcome[];
  /** Devices that trained no model, and why. */
  readonly skipped: readonly SkippedGroup[];
  readonly published: number;
}

/** Progress of a run, as it happens. */
export type TrainingProgress =
  | { readonly phase: 'read'; readonly records: number; readonly partitionsDone: number; readonly partitions: number }
  | { readonly phase: 'fit'; readonly model: string; readonly index: number; readonly of: number; readonly devices: number; readonly records: number; readonly liveVersion: number | null }
  | { readonly phase: 'done'; readonly outcome: ModelOutcome };
