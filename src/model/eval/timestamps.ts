/**
 * Timestamp parsing for evaluation CSVs: ISO-8601-like text (`2014-07-01 00:30:00`,
 * `2014-07-01T00:30:00.000Z`, `…+02:00`) or epoch numbers.
 *
 * Text without a zone is read as UTC (NAB's timestamps carry none). Epoch numbers whose magnitude
 * is below 1e11 are seconds, larger ones milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
 * Other text falls back to `Date.parse`.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Epoch magnitude below which a number is read as seconds rather than milliseconds. */
export const EPOCH_SECONDS_LIMIT = 1e11;

/** Parses `text` to ms since the epoch; NaN when it is not a timestamp. */
export function parseTimestamp(text: string): number {
  const s = text.trim();
  if (s === '') return Number.NaN;
  if (NUMBER.test(s)) {
    const n = Number(s);
    return Math.abs(n) < EPOCH_SECONDS_LIMIT ? n * 1000 : n;
  }
  const m = ISO.exec(s);
  if (m !== null) {
    const [, y, mo, d, h, mi, sec, frac, zone] = m;
    const ms = frac === undefined ? 0 : Number(`0.${frac}`) * 1000;
    let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(sec ?? 0)) + ms;
    if (Number(mo) > 12 || Number(d) > 31 || Number(h ?? 0) > 24 || Number(mi ?? 0) > 59 || Number(sec ?? 0) > 60) return Number.NaN;
    if (zone !== undefined && zone.toUpperCase() !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
    }
    return t;
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? Number.NaN : t;
}
