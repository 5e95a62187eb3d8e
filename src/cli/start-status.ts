/**
 * The terminal output of `sluice start`: the status table (a header, then one line per second),
 * one line per event (an anomaly reported, an anomaly injected, a training run), and the summary.
 * Pure formatting: the numbers come from the caller.
 */
import type { ScoredRecord } from '../serving/index.ts';
import { ModelStatus, type TrainingReport } from '../training/index.ts';
import { describeInjection, type Injection } from './demo-injector.ts';
import { count, dim, duration } from './output.ts';

/** What one status line shows. */
export interface StatusSample {
  readonly elapsedMs: number;
  readonly telemetryPerSec: number;
  readonly scoredPerSec: number;
  readonly anomalies: number;
  readonly deadLetters: number;
  /** `name@version` of the live models; empty before the first. */
  readonly models: readonly string[];
  /** Shown instead of the models while there are none. */
  readonly waiting: string;
}

/** The status table's header. */
export function statusHeader(): string {
  return dim('  elapsed  telemetry/s  scored/s  anomalies   DLQ   models serving');
}

/** One status line. */
export function statusLine(s: StatusSample): string {
  const models = s.models.length === 0 ? dim(s.waiting) : s.models.join(' ');
  return `  ${clock(s.elapsedMs).padStart(7)} ${count(s.telemetryPerSec).padStart(12)} ${count(s.scoredPerSec).padStart(9)} ${count(s.anomalies).padStart(10)} ${count(s.deadLetters).padStart(5)}   ${models}`;
}

/** `! 0:31 anomaly pump-01 #212: vibration, temperature · score 0.97 · class.pump@1 ← injected #1`. */
export function anomalyLine(elapsedMs: number, a: ScoredRecord, injection: Injection | null): string {
  // The metrics that weighed at least half as much as the first.
  const top = a.contributors[0]?.weight ?? 0;
  const names = a.contributors.filter((c) => c.weight >= top / 2).map((c) => c.metric);
  const metrics = names.length === 0 ? '' : `: ${names.join(', ')}`;
  const seq = a.seq === undefined ? '' : ` #${a.seq}`;
  const source = injection === null ? '' : `  ← injected #${injection.id}`;
  return `  ! ${clock(elapsedMs)} anomaly ${a.deviceId}${seq}${metrics} · score ${a.score.toFixed(2)} · ${a.model.name}@${a.model.version}${source}`;
}

/** `+ 0:30 injected #1: spike on pump-01: …`. */
export function injectionLine(elapsedMs: number, i: Injection): string {
  return `  + ${clock(elapsedMs)} injected #${i.id}: ${describeInjection(i)}`;
}

/** `* 0:20 training #1 started: …`. */
export function trainingStartLine(elapsedMs: number, run: number, what: string): string {
  return dim(`  * ${clock(elapsedMs)} training #${run}: ${what}`);
}

/** `* 0:22 training #1: 1,000 records of 8 devices in 1.4 s → published class.fan@1, …; kept …`. */
export function trainingDoneLine(elapsedMs: number, run: number, report: TrainingReport): string {
  const published = report.models.filter((m) => m.status === ModelStatus.PUBLISHED).map((m) => `${m.name}@${m.version}`);
  const others = report.models.filter((m) => m.status !== ModelStatus.PUBLISHED).map((m) => `${m.name} ${m.status} (${m.reason})`);
  const reasons = [...new Set(report.skipped.map((g) => g.reason.replace(/^\d[\d,]* records, /, '')))];
  const skipped = report.skipped.length === 0 ? [] : [`skipped ${report.skipped.map((g) => g.name).join(', ')} (${reasons.join('; ')})`];
  const outcome = [published.length === 0 ? 'nothing published' : `published ${published.join(', ')}`, ...others, ...skipped].join('; ');
  return `  * ${clock(elapsedMs)} training #${run}: ${count(report.read.records)} records of ${report.read.devices} devices in ${duration(report.durationMs)} → ${outcome}`;
}

/** `m:ss` (or `h:mm:ss`) of an elapsed time. */
export function clock(ms: number): string {
  const s = Math.round(ms / 1_000);
  const mm = String(Math.floor((s % 3_600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return s < 3_600 ? `${mm}:${ss}` : `${Math.floor(s / 3_600)}:${mm.padStart(2, '0')}:${ss}`;
}
