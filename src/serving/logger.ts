/**
 * Structured logs of the scoring service (DESIGN.md §6.8): one JSON object per line with `time`
 * (ISO 8601), `level`, `msg` and the event's fields, e.g.
 *
 *   {"time":"2025-01-01T00:00:00.000Z","level":"warn","msg":"model rejected","name":"default","version":3,"reason":"probe","error":"…"}
 *
 * The service takes any {@link ServingLogger}; tests capture the lines with {@link memoryLogger}.
 */

/** Severity of a log line. */
export const LogLevel = { debug: 'debug', info: 'info', warn: 'warn', error: 'error' } as const;
/** One of {@link LogLevel}. */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Where the service's log lines go. */
export interface ServingLogger {
  log(level: LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** A logged line as {@link memoryLogger} keeps it. */
export interface LogLine {
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A logger writing JSON lines to `write` (default: stderr); lines below `minLevel` are dropped. */
export function jsonLinesLogger(options: { readonly write?: (line: string) => void; readonly minLevel?: LogLevel } = {}): ServingLogger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const min = RANK[options.minLevel ?? 'info'];
  return {
    log(level, msg, fields = {}) {
      if (RANK[level] < min) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
    },
  };
}

/** A logger that keeps its lines in memory (at most `max`, oldest dropped first). */
export function memoryLogger(max = 10_000): ServingLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    log(level, msg, fields = {}) {
      lines.push({ level, msg, fields });
      if (lines.length > max) lines.shift();
    },
  };
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
