/**
 * Evaluation of detectors: the NAB scorer (SCORING.md), event-level metrics, NAB and CSV readers,
 * the causal runners behind `sluice eval nab` and `sluice detect`, and the HTML report.
 */
export * from './causal-run.ts';
export * from './csv-table.ts';
export * from './detect-run.ts';
export * from './event-metrics.ts';
export * from './html-report.ts';
export * from './nab-dataset.ts';
export * from './nab-fit.ts';
export * from './nab-profiles.ts';
export * from './nab-runner.ts';
export * from './nab-scorer.ts';
export * from './nab-windows.ts';
export * from './timestamps.ts';
