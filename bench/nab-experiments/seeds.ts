/**
 * Variance check: scores `sluice-nab` with the given hyperparameters under several context-table
 * hash seed sets (quick scorer) and prints their three profile scores' mean, standard deviation and
 * range (each set with -v). Run k uses seed k·1000 (+ the given seed), so the sets of an ensemble of
 * up to 1,000 tables are disjoint. Differences between variants smaller than this spread are noise.
 * Usage: npx node bench/nab-experiments/seeds.ts ['{"ensemble":4}'] [seeds=8]
 */
import { nabDetectorFactory } from '../../src/model/detectors/nab/index.ts';
import { loadNab, PROFILES, sweep, type ProfileName } from './quick-scorer.ts';

const args = process.argv.slice(2);
const hp = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, number>;
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 8);
const series = loadNab(process.env.NAB ?? '../shared/datasets/nab');
const names = Object.keys(PROFILES) as ProfileName[];
const all: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let k = 0; k < count; k++) {
  const seed = k * 1000 + (hp.seed ?? 0);
  const model = nabDetectorFactory.fit([], { features: ['value'], hyperparameters: { ...hp, seed } });
  const scores = series.map((s) => {
    const st = model.newState();
    const out = new Float64Array(s.values.length);
    for (let i = 0; i < s.values.length; i++) out[i] = model.score(st, { ts: s.ts[i]!, values: { value: s.values[i]! } });
    return out;
  });
  const row = names.map((n) => sweep(series, scores, n).score);
  row.forEach((v, i) => all[names[i]!]!.push(v));
  if (args.includes('-v')) console.log(seed, row.map((v) => v.toFixed(2)).join(' '));
}
const stat = (v: number[]): string => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
  return `${m.toFixed(2)}±${sd.toFixed(2)} [${Math.min(...v).toFixed(2)},${Math.max(...v).toFixed(2)}]`;
};
console.log(JSON.stringify(hp), names.map((n) => `${n.replace('reward_', '')} ${stat(all[n]!)}`).join(' | '));
