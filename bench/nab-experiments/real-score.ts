/**
 * Scores `sluice-nab` on the NAB folder with the project's exact scorer (src/model/eval), to confirm
 * the quick scorer's numbers. Usage: npx node bench/nab-experiments/real-score.ts [hyperparameters JSON]
 */
import { nabDetectorFactory } from '../../src/model/detectors/nab/index.ts';
import { readNabCorpus, runNabEvaluation } from '../../src/model/eval/index.ts';

const hp = JSON.parse(process.argv[2] ?? '{}') as Record<string, number>;
const corpus = readNabCorpus(process.env.NAB ?? '../shared/datasets/nab');
const t0 = performance.now();
const { result } = runNabEvaluation({ corpus, factory: nabDetectorFactory, fitOptions: { hyperparameters: hp } });
const secs = (performance.now() - t0) / 1000;
const out: Record<string, number> = {};
for (const [name, p] of Object.entries(result.profiles)) out[name] = Number(p.score.toFixed(4));
console.log(JSON.stringify({ ...out, seconds: Number(secs.toFixed(2)), rows: corpus.rows }));
