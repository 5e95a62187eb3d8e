/**
 * A quick NAB scorer for iterating on the NAB detector, written from
 * ../shared/datasets/nab/SCORING.md (§2 probation, §3 scaled sigmoid, §4 row values, §6 sweep, §9
 * normalisation). The project's exact scorer lives in src/model/eval/; this one exists so that
 * experiments could start before it landed, and is checked against the ARTime golden values.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One NAB series with its labels resolved to row ranges. */
export interface NabSeries {
  readonly name: string;
  readonly ts: Float64Array;
  readonly values: Float64Array;
  readonly stamps: readonly string[];
  readonly windows: ReadonlyArray<readonly [number, number]>;
  readonly probation: number;
}

/** Cost profiles of config/profiles.json. */
export const PROFILES = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP_rate: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN_rate: { tp: 1, fp: 0.11, fn: 2 },
} as const;
/** Profile names. */
export type ProfileName = keyof typeof PROFILES;

/** Loads every series of the NAB folder. */
export function loadNab(root: string): NabSeries[] {
  const windowsJson = JSON.parse(readFileSync(join(root, 'labels/combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const out: NabSeries[] = [];
  for (const cat of readdirSync(join(root, 'data')).sort()) {
    if (!cat.startsWith('art') && !cat.startsWith('real')) continue;
    for (const file of readdirSync(join(root, 'data', cat)).sort()) {
      if (!file.endsWith('.csv')) continue;
      const name = `${cat}/${file}`;
      const lines = readFileSync(join(root, 'data', cat, file), 'utf8').trim().split('\n').slice(1);
      const n = lines.length;
      const ts = new Float64Array(n);
      const values = new Float64Array(n);
      const stamps: string[] = [];
      lines.forEach((line, i) => {
        const [t, v] = line.split(',');
        stamps.push(t!);
        ts[i] = Date.parse(t!.replace(' ', 'T') + 'Z');
        values[i] = Number(v);
      });
      const wins = (windowsJson[name] ?? []).map(([a, b]) => {
        const s = stamps.indexOf(a.replace('.000000', ''));
        const e = stamps.indexOf(b.replace('.000000', ''));
        return [s, e] as const;
      });
      out.push({ name, ts, values, stamps, windows: wins, probation: Math.min(Math.floor(0.15 * n), 750) });
    }
  }
  return out;
}

function sigma(y: number): number {
  return y > 3 ? -1 : 2 * (1 / (1 + Math.exp(5 * y))) - 1;
}
const M = sigma(-1);

/** Result of a sweep. */
export interface SweepResult {
  readonly threshold: number;
  readonly raw: number;
  readonly score: number;
}

/** Sweeps the threshold over all scores (SCORING.md §6) and normalises (§9). */
export function sweep(series: readonly NabSeries[], scores: readonly ArrayLike<number>[], profile: ProfileName): SweepResult {
  const c = PROFILES[profile];
  const a: number[] = [];
  const v: number[] = [];
  const win: number[] = [];
  let K = 0;
  series.forEach((s, f) => {
    const n = s.values.length;
    const winId = new Int32Array(n).fill(-1);
    const val = new Float64Array(n);
    s.windows.forEach(([L, R], k) => {
      for (let i = L; i <= R; i++) winId[i] = K + k;
    });
    let lastR = -1;
    let lastW = 0;
    let wi = 0;
    for (let i = 0; i < n; i++) {
      const w = s.windows[wi];
      if (w && i >= w[0] && i <= w[1]) {
        const width = w[1] - w[0] + 1;
        val[i] = (c.tp * sigma(-(w[1] - i + 1) / width)) / M;
        if (i === w[1]) { lastR = w[1]; lastW = width; wi++; }
      } else if (lastR >= 0) {
        val[i] = c.fp * sigma((i - lastR) / (lastW - 1));
      } else val[i] = -c.fp;
    }
    const sc = scores[f]!;
    for (let i = s.probation; i < n; i++) {
      a.push(sc[i]!);
      v.push(val[i]!);
      win.push(winId[i]!);
    }
    K += s.windows.length;
  });
  const order = Array.from(a.keys()).sort((x, y) => a[y]! - a[x]!);
  const best = new Float64Array(K).fill(-c.fn);
  let total = -c.fn * K;
  let cur = 1.1;
  let bestT = cur;
  let bestS = total;
  for (const r of order) {
    if (a[r] !== cur) {
      if (total > bestS + 1e-12) { bestS = total; bestT = cur; }
      cur = a[r]!;
    }
    const w = win[r]!;
    if (w < 0) total += v[r]!;
    else if (v[r]! > best[w]!) { total += v[r]! - best[w]!; best[w] = v[r]!; }
  }
  if (total > bestS + 1e-12) { bestS = total; bestT = cur; }
  const nullS = -c.fn * K;
  return { threshold: bestT, raw: bestS, score: (100 * (bestS - nullS)) / (c.tp * K - nullS) };
}

/** Per-file raw score at a fixed threshold (for diagnostics). */
export function fileScore(s: NabSeries, sc: ArrayLike<number>, theta: number, profile: ProfileName): { raw: number; fp: number; hits: number; missed: number } {
  const c = PROFILES[profile];
  let raw = 0;
  let fp = 0;
  let hits = 0;
  let missed = 0;
  let lastR = -1;
  let lastW = 0;
  let wi = 0;
  let bestInWin = -Infinity;
  for (let i = 0; i < s.values.length; i++) {
    const w = s.windows[wi];
    const inWin = w !== undefined && i >= w[0] && i <= w[1];
    const det = i >= s.probation && sc[i]! >= theta;
    if (inWin) {
      const width = w[1] - w[0] + 1;
      if (det) bestInWin = Math.max(bestInWin, (c.tp * sigma(-(w[1] - i + 1) / width)) / M);
      if (i === w[1]) {
        if (bestInWin > -Infinity) { raw += bestInWin; hits++; } else { raw -= c.fn; missed++; }
        bestInWin = -Infinity; lastR = w[1]; lastW = width; wi++;
      }
    } else if (det) {
      fp++;
      raw += lastR >= 0 ? c.fp * sigma((i - lastR) / (lastW - 1)) : -c.fp;
    }
  }
  return { raw, fp, hits, missed };
}
