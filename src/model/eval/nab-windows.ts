/**
 * Label windows as row ranges, and NAB's per-row values v_i: what each row would be worth if it
 * were a detection, given only its position relative to the windows (SCORING.md §4).
 *
 * Source: numenta/NAB's scorer as described in ../shared/datasets/nab/SCORING.md §4.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import { SIGMOID_MAX, scaledSigmoid, type NabCosts } from './nab-profiles.ts';

/** An anomaly window as an inclusive range of row indices. */
export interface RowWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * Checks that `windows` are inside [0, n), each start ≤ end, ordered and disjoint; throws
 * EVAL_INVALID_DATA naming `name` otherwise.
 */
export function validateWindows(name: string, n: number, windows: readonly RowWindow[]): void {
  let previousEnd = -1;
  windows.forEach((w, k) => {
    const ok = Number.isInteger(w.start) && Number.isInteger(w.end) && w.start >= 0 && w.end < n && w.start <= w.end;
    if (!ok) throw new SluiceError(ErrorCode.EVAL_INVALID_DATA, `${name}: window ${k} [${w.start}, ${w.end}] is not a row range inside 0..${n - 1}`, { details: { name, window: k } });
    if (w.start <= previousEnd) throw new SluiceError(ErrorCode.EVAL_INVALID_DATA, `${name}: window ${k} starts at row ${w.start}, inside or before the previous window (windows must be ordered and disjoint)`, { details: { name, window: k } });
    previousEnd = w.end;
  });
}

/** Window index of every row (−1 outside windows). */
export function windowIndexOfRows(n: number, windows: readonly RowWindow[]): Int32Array {
  const out = new Int32Array(n).fill(-1);
  windows.forEach((w, k) => out.fill(k, w.start, w.end + 1));
  return out;
}

/**
 * NAB's per-row value v_i for every row of a file of `n` rows (SCORING.md §4):
 * - inside window k: A_TP·σ̃(−(R_k − i + 1)/w_k)/M, from A_TP at the first row down to a small reward;
 * - after a window (most recent end R*, width w*): A_FP·σ̃((i − R*)/(w* − 1)), from about 0 to −A_FP;
 * - before any window: −A_FP.
 * A window of width 1 would divide by zero after it; the divisor is then taken as 1 (NAB has none).
 */
export function rowValues(n: number, windows: readonly RowWindow[], costs: NabCosts): Float64Array {
  const v = new Float64Array(n);
  let i = 0;
  let lastEnd = -1;
  let lastWidth = 0;
  for (const w of windows) {
    for (; i < w.start; i++) v[i] = outsideValue(i, lastEnd, lastWidth, costs);
    const width = w.end - w.start + 1;
    for (; i <= w.end; i++) v[i] = (costs.tp * scaledSigmoid(-(w.end - i + 1) / width)) / SIGMOID_MAX;
    lastEnd = w.end;
    lastWidth = width;
  }
  for (; i < n; i++) v[i] = outsideValue(i, lastEnd, lastWidth, costs);
  return v;
}

function outsideValue(i: number, lastEnd: number, lastWidth: number, costs: NabCosts): number {
  if (lastEnd < 0) return -costs.fp;
  return costs.fp * scaledSigmoid((i - lastEnd) / Math.max(lastWidth - 1, 1));
}
