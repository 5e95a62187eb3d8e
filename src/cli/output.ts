/**
 * Terminal output helpers: printing, colour only on a TTY (and never with NO_COLOR), number and
 * duration formatting, and a table renderer for the `topics` commands.
 */

/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a line to stderr. */
export function err(line = ''): void {
  process.stderr.write(`${line}\n`);
}

const colour = (stream: NodeJS.WriteStream): boolean =>
  stream.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';

/** Dims `s` when stdout is a colour terminal. */
export function dim(s: string): string {
  return colour(process.stdout) ? `\u001b[2m${s}\u001b[22m` : s;
}

/** Bolds `s` when stdout is a colour terminal. */
export function bold(s: string): string {
  return colour(process.stdout) ? `\u001b[1m${s}\u001b[22m` : s;
}

/** Colours `s` red when stderr is a colour terminal (for error prefixes). */
export function red(s: string): string {
  return colour(process.stderr) ? `\u001b[31m${s}\u001b[39m` : s;
}

/** `1234567` → `1,234,567`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Milliseconds as a short duration: `950 ms`, `12.3 s`, `4 min 05 s`, `3 h 20 min`, `2 d 4 h`. */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.round(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3_600)} h`;
}

/** Bytes as `512 B`, `1.5 KiB`, `20.0 MiB`… */
export function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Renders rows as left-aligned columns (right-aligned where `right[i]`), two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right[i] === true ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [dim(line(header)), ...rows.map(line)];
}
