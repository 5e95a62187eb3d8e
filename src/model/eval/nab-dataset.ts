/**
 * Reading a NAB-layout dataset: `data/<category>/<file>.csv` (columns `timestamp,value`) and the
 * label windows in `labels/combined_windows.json` (`{"<category>/<file>.csv": [[start, end], …]}`,
 * timestamps as text), plus per-row result files written in NAB's format.
 *
 * A window boundary is the first row whose timestamp equals it (NAB's rule; SCORING.md §0).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { readCsvTable } from './csv-table.ts';
import { validateWindows, type RowWindow } from './nab-windows.ts';
import { parseTimestamp } from './timestamps.ts';

/** One NAB series with its label windows as row ranges. */
export interface NabSeries {
  /** `<category>/<file>.csv`, the key in the labels file. */
  readonly key: string;
  readonly category: string;
  readonly file: string;
  readonly path: string;
  readonly timestampText: readonly string[];
  /** Timestamps, ms since the epoch (UTC). */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** Values as written in the data file. */
  readonly valueText: readonly string[];
  readonly windows: readonly RowWindow[];
}

/** A NAB-layout dataset. */
export interface NabCorpus {
  readonly root: string;
  readonly series: readonly NabSeries[];
  /** Total number of label windows K over the series. */
  readonly windows: number;
  readonly rows: number;
}

/** Label windows by series key, as [start, end] timestamps in ms. */
export type NabLabels = ReadonlyMap<string, readonly (readonly [number, number])[]>;

function invalid(message: string, details: Record<string, unknown>, cause?: unknown): SluiceError {
  return new SluiceError(ErrorCode.EVAL_INVALID_DATA, message, cause === undefined ? { details } : { details, cause });
}

/** Reads and validates a `combined_windows.json` file. */
export function readNabLabels(path: string): NabLabels {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw invalid(`${path}: cannot read the label windows (${(error as Error).message})`, { path }, error);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(`${path}: expected an object mapping "<category>/<file>.csv" to windows`, { path });
  const labels = new Map<string, (readonly [number, number])[]>();
  for (const [key, list] of Object.entries(json)) {
    if (!Array.isArray(list)) throw invalid(`${path}: /${key} must be a list of [start, end] pairs`, { path, key });
    labels.set(
      key,
      list.map((pair: unknown, k) => {
        const ok = Array.isArray(pair) && pair.length === 2 && pair.every((t) => typeof t === 'string' || typeof t === 'number');
        const ms = ok ? (pair as (string | number)[]).map((t) => parseTimestamp(String(t))) : [];
        if (!ok || !ms.every(Number.isFinite)) throw invalid(`${path}: /${key}/${k} must be a [start, end] pair of timestamps`, { path, key, window: k });
        return [ms[0]!, ms[1]!] as const;
      }),
    );
  }
  return labels;
}

/** Maps timestamp windows onto rows: each boundary is the first row with an equal timestamp. */
export function windowsToRows(name: string, timestamps: ArrayLike<number>, windows: readonly (readonly [number, number])[]): RowWindow[] {
  const first = new Map<number, number>();
  for (let i = 0; i < timestamps.length; i++) if (!first.has(timestamps[i]!)) first.set(timestamps[i]!, i);
  const rows = windows.map(([start, end], k) => {
    const s = first.get(start);
    const e = first.get(end);
    if (s === undefined || e === undefined) {
      const missing = new Date(s === undefined ? start : end).toISOString();
      throw invalid(`${name}: window ${k} boundary ${missing} is not a timestamp of the file`, { name, window: k });
    }
    return { start: s, end: e };
  });
  validateWindows(name, timestamps.length, rows);
  return rows;
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch (error) {
    throw invalid(`${path}: cannot list the folder (${(error as Error).message})`, { path }, error);
  }
}

/** Options of {@link readNabCorpus}. */
export interface ReadNabOptions {
  /** Label windows file; default `<root>/labels/combined_windows.json`. */
  readonly labels?: string;
}

/**
 * Reads every `data/<category>/*.csv` under `root` with its windows. Every data file must have an
 * entry in the labels (an empty list for none); label entries without a data file are ignored.
 */
export function readNabCorpus(root: string, options: ReadNabOptions = {}): NabCorpus {
  const labels = readNabLabels(options.labels ?? join(root, 'labels', 'combined_windows.json'));
  const dataDir = join(root, 'data');
  const series: NabSeries[] = [];
  for (const category of listDir(dataDir)) {
    if (!statSync(join(dataDir, category)).isDirectory()) continue;
    for (const file of listDir(join(dataDir, category))) {
      if (!file.endsWith('.csv')) continue;
      const key = `${category}/${file}`;
      const path = join(dataDir, category, file);
      const windows = labels.get(key);
      if (windows === undefined) throw invalid(`${path}: no entry ${JSON.stringify(key)} in the label windows`, { path, key });
      const table = readCsvTable(path, { columns: ['value'], timestampColumn: 'timestamp' });
      series.push({
        key,
        category,
        file,
        path,
        timestampText: table.timestampText,
        timestamps: table.timestamps,
        values: table.values.value!,
        valueText: table.cells.value!,
        windows: windowsToRows(key, table.timestamps, windows),
      });
    }
  }
  if (series.length === 0) throw invalid(`${dataDir}: no <category>/<file>.csv data files`, { path: dataDir });
  return {
    root,
    series,
    windows: series.reduce((n, s) => n + s.windows.length, 0),
    rows: series.reduce((n, s) => n + s.values.length, 0),
  };
}

/** One per-row result file in NAB's format, with its windows. */
export interface NabResultSeries {
  readonly key: string;
  readonly name: string;
  readonly path: string;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly scores: Float64Array;
  readonly windows: readonly RowWindow[];
  /** Every other numeric column of the file (e.g. NAB's `S(t)_<profile>`). */
  readonly extra: Readonly<Record<string, Float64Array>>;
}

/** Options of {@link readNabResults}. */
export interface ReadNabResultsOptions {
  /** Folder holding `<category>/<prefix><file>.csv`. */
  readonly dir: string;
  /** The label windows, which also name the series to read. */
  readonly labels: NabLabels;
  /** File-name prefix, e.g. `ARTime_` for NAB's stored results; default none. */
  readonly prefix?: string;
  /** Only these keys; default every key of the labels whose result file exists. */
  readonly keys?: readonly string[];
}

/** Reads per-row results (`timestamp,value,anomaly_score,…`) for scoring. */
export function readNabResults(options: ReadNabResultsOptions): NabResultSeries[] {
  const keys = options.keys ?? [...options.labels.keys()].sort();
  const out: NabResultSeries[] = [];
  for (const key of keys) {
    const slash = key.indexOf('/');
    const path = join(options.dir, key.slice(0, slash), `${options.prefix ?? ''}${key.slice(slash + 1)}`);
    if (options.keys === undefined) {
      try {
        statSync(path);
      } catch {
        continue;
      }
    }
    const table = readCsvTable(path, { timestampColumn: 'timestamp' });
    const scores = table.values.anomaly_score;
    const values = table.values.value;
    if (scores === undefined || values === undefined) throw invalid(`${path}: needs the columns value and anomaly_score`, { path });
    const extra = Object.fromEntries(Object.entries(table.values).filter(([c]) => c !== 'anomaly_score' && c !== 'value'));
    out.push({ key, name: key, path, timestamps: table.timestamps, values, scores, windows: windowsToRows(key, table.timestamps, options.labels.get(key) ?? []), extra });
  }
  return out;
}
