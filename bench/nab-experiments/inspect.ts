/**
 * Diagnostics for one NAB series: per window its row range, the highest score inside it and where,
 * and the highest scores outside windows (after probation). Usage:
 * npx node bench/nab-experiments/inspect.ts <name substring> ['{"hyper":1}'] [threshold]
 */
import { nabDetectorFactory } from '../../src/model/detectors/nab/index.ts';
import { loadNab } from './quick-scorer.ts';

const [pat, hpArg, thArg] = process.argv.slice(2);
const theta = Number(thArg ?? 0.35);
const hp = JSON.parse(hpArg ?? '{}') as Record<string, number>;
const model = nabDetectorFactory.fit([], { features: ['value'], hyperparameters: hp });
for (const s of loadNab(process.env.NAB ?? '../shared/datasets/nab').filter((x) => x.name.includes(pat ?? ''))) {
  const st = model.newState();
  const sc = Array.from(s.values, (v, i) => model.score(st, { ts: s.ts[i]!, values: { value: v } }));
  console.log(`${s.name} rows ${s.values.length} probation ${s.probation}`);
  const inWin = new Uint8Array(sc.length);
  for (const [a, b] of s.windows) {
    let best = -1;
    for (let i = a; i <= b; i++) {
      inWin[i] = 1;
      if (best < 0 || sc[i]! > sc[best]!) best = i;
    }
    console.log(`  window ${a}-${b}: max ${sc[best]!.toFixed(3)} at ${best}`);
  }
  const out = sc.map((v, i) => [v, i] as const).filter(([, i]) => !inWin[i] && i >= s.probation).sort((x, y) => y[0] - x[0]);
  const fps = out.filter(([v]) => v >= theta).map(([, i]) => i).sort((a, b) => a - b);
  console.log(`  outside ≥ ${theta}: ${fps.join(' ')}`);
  console.log(`  top outside: ${out.slice(0, 8).map(([v, i]) => `${v.toFixed(3)}@${i}`).join(' ')}`);
}
