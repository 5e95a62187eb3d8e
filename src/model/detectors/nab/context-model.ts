/**
 * Context model: how surprising is the next quantised value, given the last few quantised values?
 *
 * Inspired by the context-based detectors at the top of NAB: CAD OSE (Smirnov & Ishimtsev, "Contextual
 * Anomaly Detector", NAB 2016 winner) conditions on contexts of recent quantised values, and HTM
 * (Hawkins & Ahmad 2016; Ahmad et al. 2017) scores the fraction of the input its sequence memory
 * did not predict. This is a much smaller cousin of both: values are quantised into `bins` levels over
 * the series' running range, a context is the last `order` levels, and a count-min style hashed table
 * counts (context → next level) transitions. The raw score is 1 − P̂(next | context), where a
 * neighbouring level earns half credit; an unseen context scores 1. Every `table` updates all counts
 * are halved, so old habits fade (amortised O(1)) and the state stays bounded (two arrays of
 * `table` integers-or-halves).
 *
 * The detector averages the raw scores of several such tables that differ only in their hash seed
 * (feature.ts). Which contexts collide in one table is arbitrary, and changing it alone moved the NAB
 * score by up to ±1.5 points; the average over tables behaves like one smoother estimate of P̂
 * (bagging, Breiman 1996; independent hash functions as in the count-min sketch, Cormode &
 * Muthukrishnan 2005).
 */

/** Online state of the context model. */
export interface ContextState {
  /** Last `order` levels, oldest first (−1 until filled). */
  recent: number[];
  /** Hashed (context, next) counts. */
  pair: number[];
  /** Hashed context totals. */
  ctx: number[];
  /** Updates since the last halving. */
  sinceDecay: number;
}

/** Parameters of the context model. */
export interface ContextParams {
  readonly bins: number;
  readonly order: number;
  readonly table: number;
}

/** A fresh context model. */
export function newContext(p: ContextParams): ContextState {
  return {
    recent: new Array<number>(p.order).fill(-1),
    pair: new Array<number>(p.table).fill(0),
    ctx: new Array<number>(p.table).fill(0),
    sinceDecay: 0,
  };
}

/** Hash seed of table `k` of an ensemble: table 0 uses the FNV-1a offset basis, the others mix k in. */
export function contextSeed(k: number): number {
  return k === 0 ? 0x811c9dc5 : Math.imul(0x811c9dc5 ^ Math.imul(k, 0x9e3779b1), 0x01000193) >>> 0;
}

function mix(h: number, v: number): number {
  // FNV-1a style mixing of small integers, kept in 32 bits.
  return Math.imul(h ^ (v + 0x9e37), 0x01000193) >>> 0;
}

/** Scores the level `q` (0 … bins−1) against the current context of a table hashed with `seed`, then learns the transition. */
export function updateContext(s: ContextState, p: ContextParams, q: number, seed: number): number {
  let h = seed;
  let full = true;
  for (const r of s.recent) {
    if (r < 0) full = false;
    h = mix(h, r);
  }
  let raw = 1;
  const T = p.table;
  const ci = h % T;
  if (full) {
    const total = s.ctx[ci]!;
    if (total > 0) {
      const hit = s.pair[mix(h, q + 1) % T]!;
      const near = (q > 0 ? s.pair[mix(h, q) % T]! : 0) + (q < p.bins - 1 ? s.pair[mix(h, q + 2) % T]! : 0);
      raw = Math.max(0, 1 - Math.min(1, (hit + 0.5 * near) / total));
    }
    s.ctx[ci] = s.ctx[ci]! + 1;
    const pi = mix(h, q + 1) % T;
    s.pair[pi] = s.pair[pi]! + 1;
    if (++s.sinceDecay >= T) {
      for (let i = 0; i < T; i++) {
        s.pair[i] = s.pair[i]! / 2;
        s.ctx[i] = s.ctx[i]! / 2;
      }
      s.sinceDecay = 0;
    }
  }
  s.recent.shift();
  s.recent.push(q);
  return raw;
}
