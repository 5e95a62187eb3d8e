/**
 * The anomaly record (value of the `anomalies` topic, key = device id; DESIGN.md §3 and the serving
 * contract), UTF-8 JSON:
 *
 *   { "deviceId": "pump-7", "ts": 1700000000000, "seq": 42,
 *     "score": 0.93, "decision": { "likelihood": 0.99, "anomaly": true },
 *     "model": { "name": "class.pump", "version": 3 },
 *     "contributors": [ { "metric": "vibration", "weight": 0.81 }, … ],
 *     "scoredAt": 1700000000012, "processingMs": 0.04 }
 *
 * `ts` is the telemetry's event time, `scoredAt` the serving instance's wall clock when it scored
 * it, `processingMs` the time the instance spent on the record (checks, scoring, explanation);
 * `seq` is copied from the telemetry when it has one. In ensemble mode, `model` is the member with
 * the highest likelihood and `ensemble` lists every member's result. The optional scores topic
 * carries the same record for every scored record (contributors only when anomalous).
 */
import { jsonCodec, type Codec } from '../log/index.ts';
import type { Decision } from '../model/index.ts';
import type { EnsembleCombine } from './options.ts';

/** A metric that contributed to a score, with its weight (≥ 0, larger = more). */
export interface Contributor {
  readonly metric: string;
  readonly weight: number;
}

/** One ensemble member's result. */
export interface MemberResult {
  readonly name: string;
  readonly version: number;
  readonly score: number;
  readonly likelihood: number;
  readonly anomaly: boolean;
}

/** A scored telemetry record (see the file comment). */
export interface ScoredRecord {
  readonly deviceId: string;
  readonly ts: number;
  readonly seq?: number;
  readonly score: number;
  readonly decision: Decision;
  readonly model: { readonly name: string; readonly version: number };
  readonly contributors: readonly Contributor[];
  readonly scoredAt: number;
  readonly processingMs: number;
  readonly ensemble?: { readonly combine: EnsembleCombine; readonly members: readonly MemberResult[] };
}

/** Codec of anomaly (and score) records, for consumers of the topic. */
export const anomalyCodec: Codec<ScoredRecord> = jsonCodec<ScoredRecord>({ name: 'anomaly' });

/** The `n` largest finite, non-negative weights, largest first (ties by metric name). */
export function topContributors(weights: Readonly<Record<string, number>>, n: number): Contributor[] {
  if (n === 0) return [];
  const out: Contributor[] = [];
  for (const metric of Object.keys(weights)) {
    const w = weights[metric]!;
    if (w >= 0 && w < Number.POSITIVE_INFINITY) out.push({ metric, weight: w });
  }
  out.sort((a, b) => b.weight - a.weight || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
  return out.length > n ? out.slice(0, n) : out;
}
