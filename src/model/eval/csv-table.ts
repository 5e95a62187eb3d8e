/**
 * A small CSV reader for time-series files: comma- or semicolon-separated (detected from the
 * header), one header row, a timestamp column (ISO text or epoch numbers; see timestamps.ts) and
 * numeric columns.
 *
 * Format (RFC 4180 subset): fields may be double-quoted, with `""` for a quote inside; a quoted field
 * cannot span lines. Blank lines are skipped. With `;` as separator a decimal comma (`1,5`) is read
 * as a decimal point. A numeric cell that is empty or not a number becomes NaN (detectors cope with
 * it); a row with the wrong number of cells or a bad timestamp is an EVAL_INVALID_DATA error naming
 * the file, line and column.
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { parseTimestamp } from './timestamps.ts';

/** Options of {@link parseCsvTable} and {@link readCsvTable}. */
export interface CsvTableOptions {
  /** Numeric columns to read; default every other column with at least one numeric cell. */
  readonly columns?: readonly string[];
  /** The timestamp column; default the first named timestamp/time/ts/date/datetime, else the first. */
  readonly timestampColumn?: string;
}

/** A parsed CSV: the original lines (to write back with extra columns) and the parsed columns. */
export interface CsvTable {
  /** File name used in messages. */
  readonly path: string;
  readonly separator: ',' | ';';
  readonly header: readonly string[];
  /** The header line as written. */
  readonly headerLine: string;
  readonly timestampColumn: string;
  /** The numeric columns read, in order. */
  readonly columns: readonly string[];
  /** One entry per data row: the line as written (without its line ending). */
  readonly lines: readonly string[];
  /** 1-based line number of each data row in the file. */
  readonly lineNumbers: Uint32Array;
  /** Timestamp of each row as written. */
  readonly timestampText: readonly string[];
  /** Timestamp of each row, ms since the epoch. */
  readonly timestamps: Float64Array;
  /** Values of each numeric column (NaN for missing or non-numeric cells). */
  readonly values: Readonly<Record<string, Float64Array>>;
  /** Cells of each numeric column as written. */
  readonly cells: Readonly<Record<string, readonly string[]>>;
}

const TIMESTAMP_NAMES = /^(timestamp|time|ts|date|datetime|date_?time|time_?stamp|event_?time)$/i;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;

function invalid(message: string, details: Record<string, unknown>): SluiceError {
  return new SluiceError(ErrorCode.EVAL_INVALID_DATA, message, { details });
}

/** Splits one CSV line into cells (quotes handled; see the module comment). */
export function splitCsvLine(line: string, separator: string): string[] {
  if (!line.includes('"')) return line.split(separator);
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/** Reads a numeric cell: a number, ±Infinity, or NaN for anything else (empty, text). */
export function parseNumericCell(text: string, separator: string): number {
  const s = text.trim();
  if (NUMBER.test(s)) return Number(s);
  if (separator === ';' && DECIMAL_COMMA.test(s)) return Number(s.replace(',', '.'));
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  return Number.NaN;
}

/** Parses CSV `text` (named `path` in messages) into a {@link CsvTable}. */
export function parseCsvTable(text: string, path: string, options: CsvTableOptions = {}): CsvTable {
  const all = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let h = 0;
  while (h < all.length && all[h]!.trim() === '') h++;
  if (h >= all.length) throw invalid(`${path}: the file is empty (a header row is needed)`, { path });
  const headerLine = all[h]!;
  const separator: ',' | ';' = count(headerLine, ';') > count(headerLine, ',') ? ';' : ',';
  const header = splitCsvLine(headerLine, separator).map((c) => c.trim());
  const position = (name: string, what: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw invalid(`${path}: no ${what} column ${JSON.stringify(name)} in the header (columns: ${header.join(', ')})`, { path, column: name });
    return i;
  };
  const tsIndex = options.timestampColumn !== undefined ? position(options.timestampColumn, 'timestamp') : Math.max(0, header.findIndex((c) => TIMESTAMP_NAMES.test(c)));
  const timestampColumn = header[tsIndex]!;
  const lines: string[] = [];
  const numbers: number[] = [];
  const rows: string[][] = [];
  for (let i = h + 1; i < all.length; i++) {
    const line = all[i]!;
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line, separator);
    if (cells.length !== header.length) {
      throw invalid(`${path}:${i + 1}: ${cells.length} cells, but the header has ${header.length} (separator ${JSON.stringify(separator)})`, { path, line: i + 1 });
    }
    lines.push(line);
    numbers.push(i + 1);
    rows.push(cells);
  }
  const timestampText = rows.map((r) => r[tsIndex]!.trim());
  const timestamps = new Float64Array(rows.length);
  timestampText.forEach((t, r) => {
    const ms = parseTimestamp(t);
    if (!Number.isFinite(ms)) throw invalid(`${path}:${numbers[r]}: column ${JSON.stringify(timestampColumn)}: ${JSON.stringify(t)} is not a timestamp (ISO date-time or epoch number)`, { path, line: numbers[r], column: timestampColumn });
    timestamps[r] = ms;
  });
  const candidates = options.columns ?? header.filter((_, i) => i !== tsIndex);
  const values: Record<string, Float64Array> = {};
  const cells: Record<string, string[]> = {};
  const columns: string[] = [];
  for (const name of candidates) {
    const i = position(name, 'numeric');
    if (i === tsIndex) throw invalid(`${path}: column ${JSON.stringify(name)} is the timestamp column, not a numeric one`, { path, column: name });
    const raw = rows.map((r) => r[i]!);
    const v = Float64Array.from(raw, (c) => parseNumericCell(c, separator));
    if (options.columns === undefined && !v.some((x) => !Number.isNaN(x))) continue;
    values[name] = v;
    cells[name] = raw;
    columns.push(name);
  }
  if (columns.length === 0) throw invalid(`${path}: no numeric column found besides the timestamp column ${JSON.stringify(timestampColumn)}`, { path });
  return { path, separator, header, headerLine, timestampColumn, columns, lines, lineNumbers: Uint32Array.from(numbers), timestampText, timestamps, values, cells };
}

/** Reads and parses the CSV file at `path` (see {@link parseCsvTable}). */
export function readCsvTable(path: string, options: CsvTableOptions = {}): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SluiceError(ErrorCode.EVAL_INVALID_DATA, `${path}: cannot read the file (${(error as Error).message})`, { cause: error, details: { path } });
  }
  return parseCsvTable(text, path, options);
}

function count(s: string, c: string): number {
  let n = 0;
  for (const ch of s) if (ch === c) n++;
  return n;
}
