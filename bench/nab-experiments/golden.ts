/** Checks quick-scorer.ts against ARTime's golden output on the 35 files (SCORING.md, top table). */
import { readFileSync } from 'node:fs';
import { loadNab, sweep, PROFILES, type ProfileName } from './quick-scorer.ts';

const root = process.argv[2] ?? '../shared/datasets/nab';
const series = loadNab(root);
const scores = series.map((s) => {
  const [cat, file] = s.name.split('/');
  const lines = readFileSync(`${root}/results/ARTime/${cat}/ARTime_${file}`, 'utf8').trim().split('\n').slice(1);
  return Float64Array.from(lines.map((l) => Number(l.split(',')[2])));
});
for (const p of Object.keys(PROFILES) as ProfileName[]) console.log(p, sweep(series, scores, p));
