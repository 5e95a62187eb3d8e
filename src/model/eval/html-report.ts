/**
 * The evaluation's HTML report: one self-contained file (no scripts, no external resources) with the
 * score table and, per series, an inline SVG chart of the values with the label windows shaded, the
 * probationary period greyed and the detections at the chosen profile's θ* marked.
 *
 * Charts are drawn against the row index and reduced to at most {@link CHART_BUCKETS} min/max
 * buckets, so a 20,000-row series stays a few kilobytes.
 */
import { nabProbation } from './nab-profiles.ts';
import type { CorpusResult } from './nab-scorer.ts';
import type { RowWindow } from './nab-windows.ts';

/** Horizontal resolution of a chart: values are reduced to this many min/max buckets. */
export const CHART_BUCKETS = 480;

/** One series to chart. */
export interface ReportSeries {
  readonly key: string;
  readonly values: ArrayLike<number>;
  readonly scores: ArrayLike<number>;
  readonly windows: readonly RowWindow[];
}

/** Options of {@link renderNabReport}. */
export interface NabReportOptions {
  readonly title: string;
  readonly detector: string;
  readonly result: CorpusResult;
  readonly series: readonly ReportSeries[];
  /** Profile whose θ* marks the detections; default `standard`. */
  readonly profile?: string;
  /** Extra lines under the title (e.g. the command and data folder). */
  readonly notes?: readonly string[];
}

const W = 960;
const H = 150;
const PAD = 4;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fmt = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** Renders the report as one HTML document. */
export function renderNabReport(options: NabReportOptions): string {
  const { result } = options;
  const profile = options.profile ?? 'standard';
  const threshold = result.profiles[profile]?.threshold ?? Number.NaN;
  const summary = Object.values(result.profiles)
    .map(
      (p) =>
        `<tr><td>${esc(p.profile)}</td><td>${fmt(p.score, 2)}</td><td>${fmt(p.rawScore, 4)}</td><td>${fmt(p.threshold, 6)}</td>` +
        `<td>${p.tp}</td><td>${p.fp}</td><td>${p.fn}</td><td>${fmt(p.events.precision, 3)}</td><td>${fmt(p.events.recall, 3)}</td><td>${fmt(p.events.f1, 3)}</td></tr>`,
    )
    .join('\n');
  const files = result.profiles[profile]?.files ?? [];
  const charts = options.series
    .map((s, i) => {
      const f = files[i];
      const caption = f === undefined ? '' : ` — score ${fmt(f.score, 3)}, TP ${f.tp}, FP ${f.fp}, FN ${f.fn}, windows ${s.windows.length}`;
      return `<section><h3>${esc(s.key)}<small>${esc(caption)}</small></h3>\n${chart(s, threshold)}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(options.title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:${W + 40}px}
table{border-collapse:collapse;margin:12px 0}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}h3{font-size:14px;margin:18px 0 4px}h3 small{font-weight:normal;color:#666}
svg{display:block;background:#fcfcfc;border:1px solid #eee}.legend span{margin-right:16px}
</style></head><body>
<h1>${esc(options.title)}</h1>
<p>Detector <b>${esc(options.detector)}</b>; ${options.series.length} series, ${result.rows} rows (${result.scorableRows} scored), ${result.windows} label windows.</p>
${(options.notes ?? []).map((n) => `<p>${esc(n)}</p>`).join('\n')}
<table><tr><th>profile</th><th>NAB score</th><th>raw S(θ*)</th><th>θ*</th><th>TP rows</th><th>FP rows</th><th>FN rows</th><th>event precision</th><th>event recall</th><th>event F1</th></tr>
${summary}
</table>
<p class="legend"><span style="color:#1f5fbf">━ value</span><span style="background:#f6c9c9">&nbsp;label window&nbsp;</span><span style="background:#e8e8e8">&nbsp;probation&nbsp;</span><span style="color:#c00">▼ detection at the ${esc(profile)} θ* = ${fmt(threshold, 6)}</span></p>
${charts}
</body></html>
`;
}

function chart(s: ReportSeries, threshold: number): string {
  const n = s.values.length;
  if (n === 0) return '<svg width="960" height="20"></svg>';
  const xOf = (i: number): number => (i / n) * W;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = s.values[i]!;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(hi > lo)) {
    lo = Number.isFinite(lo) ? lo - 1 : 0;
    hi = lo + 2;
  }
  const yOf = (v: number): number => PAD + 10 + (1 - (v - lo) / (hi - lo)) * (H - 2 * PAD - 10);
  const buckets = Math.min(CHART_BUCKETS, n);
  const points: string[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * n) / buckets));
    let mn = Infinity;
    let mx = -Infinity;
    let first = Number.NaN;
    let last = Number.NaN;
    for (let i = from; i < to; i++) {
      const v = s.values[i]!;
      if (!Number.isFinite(v)) continue;
      if (Number.isNaN(first)) first = v;
      last = v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (Number.isNaN(first)) continue;
    const x = xOf((from + to) / 2).toFixed(1);
    // Keep the bucket's extremes in the order they rise and fall.
    const pair = first <= last ? [mn, mx] : [mx, mn];
    for (const v of mn === mx ? [mn] : pair) points.push(`${x},${yOf(v).toFixed(1)}`);
  }
  const p = nabProbation(n);
  const shapes = [`<rect x="0" y="0" width="${xOf(p).toFixed(1)}" height="${H}" fill="#e8e8e8"/>`];
  for (const w of s.windows) shapes.push(`<rect x="${xOf(w.start).toFixed(1)}" y="0" width="${Math.max(1, xOf(w.end + 1) - xOf(w.start)).toFixed(1)}" height="${H}" fill="#f6c9c9"/>`);
  const marks = new Set<number>();
  for (let i = p; i < n; i++) if (s.scores[i]! >= threshold) marks.add(Math.round(xOf(i)));
  const detections = [...marks].map((x) => `<path d="M${x - 3},1h6l-3,7z" fill="#c00"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${shapes.join('')}<polyline fill="none" stroke="#1f5fbf" stroke-width="1" points="${points.join(' ')}"/>${detections}</svg>`;
}
