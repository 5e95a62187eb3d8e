/**
 * What `sluice train` prints: progress lines while a run reads, fits, evaluates and publishes
 * (stderr; reading progress at most once a second), and each run's outcome as a table (stdout).
 */
import { performance } from 'node:perf_hooks';
import { describeRange, type ModelEvaluation, type ModelOutcome, type TrainingProgress, type TrainingReport } from '../training/index.ts';
import { count, duration, table } from './output.ts';

const READ_EVERY_MS = 1_000;

/** A progress handler that prints each step with `print`. */
export function progressPrinter(print: (line: string) => void): (progress: TrainingProgress) => void {
  let lastRead = 0;
  let readStarted: number | null = null;
  return (p) => {
    const now = performance.now();
    switch (p.phase) {
      case 'read':
        readStarted ??= now;
        if (p.partitionsDone === p.partitions) {
          print(`  read ${count(p.records)} records from ${p.partitions} partition${p.partitions === 1 ? '' : 's'} in ${duration(now - readStarted)}`);
          readStarted = null;
        } else if (now - lastRead >= READ_EVERY_MS) {
          lastRead = now;
          print(`  reading: ${count(p.records)} records (${p.partitionsDone}/${p.partitions} partitions done)`);
        }
        return;
      case 'fit':
        print(
          `  [${p.index + 1}/${p.of}] ${p.model}: fitting on ${count(p.records)} records of ${p.devices} device${p.devices === 1 ? '' : 's'}, ` +
            `then evaluating${p.liveVersion === null ? '' : ` against the live v${p.liveVersion}`}…`,
        );
        return;
      case 'done': {
        const o = p.outcome;
        print(`  ${o.name}: ${o.status}${shownVersion(o) === '-' ? '' : ` ${shownVersion(o)}`}${figures(o)} — ${o.reason}`);
        return;
      }
    }
  };
}

/** A run's outcome for a person: what was read, then one row per model, then what was skipped. */
export function formatRun(report: TrainingReport): string {
  const r = report.read;
  const lines = [
    `${report.detector} per ${report.per} on '${report.topic}', ${describeRange(report.range)}: ${count(r.records)} records of ${r.devices} devices read` +
      `${r.invalid > 0 ? ` (${count(r.invalid)} invalid skipped)` : ''}${r.dropped > 0 ? `, ${count(r.dropped)} older records over the memory caps left out` : ''}` +
      `; ${report.published} model${report.published === 1 ? '' : 's'} published in ${duration(report.durationMs)}`,
  ];
  if (report.models.length > 0) {
    const rows = report.models.map((m) => [
      m.name,
      m.status,
      shownVersion(m),
      m.parentVersion === null ? '-' : `v${m.parentVersion}`,
      count(m.trainedOn?.records ?? 0),
      m.candidate === null ? '-' : m.candidate.f1.toFixed(3),
      m.live === null ? '-' : m.live.f1.toFixed(3),
      m.candidate === null ? '-' : m.candidate.falseAlarmsPer1k.toFixed(2),
      m.live === null ? '-' : m.live.falseAlarmsPer1k.toFixed(2),
    ]);
    lines.push(...table(['model', 'status', 'version', 'parent', 'trained on', 'F1', 'live F1', 'FA/1k', 'live FA/1k'], rows, [false, false, true, true, true, true, true, true, true]));
    for (const m of report.models) if (m.status !== 'published') lines.push(`  ${m.name}: ${m.reason}`);
  }
  for (const p of r.partitions) {
    if (p.stalled) lines.push(`  partition ${p.partition} made no progress before offset ${p.toOffset}: ${count(p.records)} records read from it (the rest is left for the next run)`);
  }
  for (const s of report.skipped) lines.push(`  skipped ${s.name} (${s.devices} device${s.devices === 1 ? '' : 's'}, ${count(s.records)} records): ${s.reason}`);
  return lines.join('\n');
}

/** The version a model got (or would get in a dry run); '-' when it was not published. */
function shownVersion(o: ModelOutcome): string {
  return o.version !== null && (o.status === 'published' || o.status === 'would-publish') ? `v${o.version}` : '-';
}

function figures(o: ModelOutcome): string {
  if (o.candidate === null) return '';
  const f = (e: ModelEvaluation): string => `F1 ${e.f1.toFixed(3)}, ${e.falseAlarmsPer1k.toFixed(2)} false alarms/1k`;
  return ` (${f(o.candidate)}${o.live === null ? '' : `; live: ${f(o.live)}`}; ${o.injectedAnomalies} anomalies injected in ${count(o.heldOutRecords)} held-back records)`;
}
