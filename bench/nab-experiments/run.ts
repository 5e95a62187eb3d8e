/**
 * Experiment runner: scores every NAB series causally with `sluice-nab` (hyperparameters from a JSON
 * argument) and prints the three profile scores from quick-scorer.ts, the records/s, and with
 * `--files` a per-file breakdown at the standard threshold.
 * Usage: npx node bench/nab-experiments/run.ts ['{"refractory":200}'] [--files]
 */
import { nabDetectorFactory } from '../../src/model/detectors/nab/index.ts';
import { fileScore, loadNab, PROFILES, sweep, type ProfileName } from './quick-scorer.ts';

const args = process.argv.slice(2);
const hp = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, number>;
const series = loadNab(process.env.NAB ?? '../shared/datasets/nab');
const model = nabDetectorFactory.fit([], { features: ['value'], hyperparameters: hp });
let rows = 0;
const t0 = performance.now();
const scores = series.map((s) => {
  const st = model.newState();
  const out = new Float64Array(s.values.length);
  for (let i = 0; i < s.values.length; i++) out[i] = model.score(st, { ts: s.ts[i]!, values: { value: s.values[i]! } });
  rows += s.values.length;
  return out;
});
const secs = (performance.now() - t0) / 1000;
const res: Record<string, number> = {};
for (const p of Object.keys(PROFILES) as ProfileName[]) {
  const r = sweep(series, scores, p);
  res[p] = Number(r.score.toFixed(2));
  if (p === 'standard') res.theta = Number(r.threshold.toFixed(4));
}
console.log(JSON.stringify({ ...res, rps: Math.round(rows / secs), hp }));
if (args.includes('--files')) {
  const theta = sweep(series, scores, 'standard').threshold;
  for (const [f, s] of series.entries()) {
    const r = fileScore(s, scores[f]!, theta, 'standard');
    console.log(`${r.raw.toFixed(2).padStart(7)} hit ${r.hits}/${s.windows.length} fp ${String(r.fp).padStart(3)}  ${s.name}`);
  }
}
