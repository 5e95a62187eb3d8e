/**
 * The machine's own ceiling for a latency target on rounds of work: the p99 an ideal one-core server
 * would reach here. Every `--round-ms` (5 ms, as the pipeline benchmark's steady traffic arrives) a
 * round of items is due; the server sleeps until then, and does the round's items in order. Each
 * item is a fixed amount of pure computation (`--item-us`, calibrated on this machine at its
 * fastest), and a round holds as many as keep the core `--busy` busy (0.5: half the maximum load).
 * An item's latency is the time from its round's due time to the moment it is done. No I/O, no
 * allocation, no garbage collection, no other thread: what is left is the machine — timer
 * wake-ups, a core that comes back cold or slow after idling, stalls of the hypervisor, other
 * tenants. No software on that core can meet a target tighter than what this finds at the same
 * load. Pin it to the core in question: `taskset -c N`.
 *
 * Usage: taskset -c N node bench/round-ceiling.ts [--busy 0.5] [--round-ms 5] [--item-us 1.6]
 *        [--seconds 20] [--json]   (or: npx sluice bench round-ceiling …). With --json the last
 *        line is one JSON object.
 */
import { parseArgs } from 'node:util';
import { exitOnHelp, sayer } from './args.ts';

/** What one run found; times in ms. */
export interface RoundCeiling {
  readonly busy: number;
  readonly roundMs: number;
  readonly itemUs: number;
  readonly itemsPerRound: number;
  readonly seconds: number;
  readonly items: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Share of items later than 5 ms. */
  readonly over5MsShare: number;
  /** Share of the wall-clock time the server was working (not asleep), 0–1. */
  readonly measuredBusy: number;
}

const USAGE = 'usage: sluice bench round-ceiling [--busy 0.5] [--round-ms 5] [--item-us 1.6] [--seconds 20] [--json]   (pin it: taskset -c N …)';
/** Latency histogram resolution and range: 10 µs buckets up to 2 s (later items go in the last). */
const BUCKET_MS = 0.01;
const BUCKETS = 200_000;

/** Keeps the result of {@link work} alive, so the computation is not optimised away. */
let sink = 0;

/** Loop iterations of {@link work} that take `itemUs` on this machine at its fastest (best of several tries). */
export function calibrate(itemUs: number): number {
  const iterations = 200_000;
  let best = Infinity;
  for (let i = 0; i < 15; i++) {
    const start = performance.now();
    sink ^= work(iterations);
    best = Math.min(best, performance.now() - start);
  }
  return Math.max(1, Math.round((itemUs / 1000 / best) * iterations));
}

/** Pure integer computation: `iterations` steps of a xorshift generator. */
export function work(iterations: number): number {
  let x = 0x9e3779b9 ^ iterations;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

/** The value below which a share `q` of the histogram's counts lie, in ms. */
function quantileOf(histogram: Uint32Array, total: number, q: number): number {
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let b = 0; b < histogram.length; b++) {
    seen += histogram[b]!;
    if (seen >= rank) return (b + 1) * BUCKET_MS;
  }
  return histogram.length * BUCKET_MS;
}

/** Runs rounds for `seconds` and summarises the items' latencies; `started` is told once the rounds begin. */
export function measureRoundCeiling(
  options: { busy: number; roundMs: number; itemUs: number; seconds: number },
  started: (itemsPerRound: number) => void = () => {},
): RoundCeiling {
  const { busy, roundMs, itemUs, seconds } = options;
  const itemsPerRound = Math.max(1, Math.round((busy * roundMs * 1000) / itemUs));
  const iterations = calibrate(itemUs);
  started(itemsPerRound);
  const histogram = new Uint32Array(BUCKETS);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let items = 0;
  let max = 0;
  let working = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  for (let round = 1; ; round++) {
    const due = start + round * roundMs;
    if (due >= end) break;
    const wait = due - performance.now();
    if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
    const begun = performance.now();
    let done = begun;
    for (let i = 0; i < itemsPerRound; i++) {
      sink ^= work(iterations);
      done = performance.now();
      const latency = done - due;
      histogram[Math.min(BUCKETS - 1, Math.floor(latency / BUCKET_MS))]!++;
      if (latency > max) max = latency;
    }
    working += done - begun;
    items += itemsPerRound;
  }
  let over5 = 0;
  for (let b = Math.ceil(5 / BUCKET_MS); b < BUCKETS; b++) over5 += histogram[b]!;
  const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    busy,
    roundMs,
    itemUs,
    itemsPerRound,
    seconds,
    items,
    p50Ms: round3(quantileOf(histogram, items, 0.5)),
    p99Ms: round3(quantileOf(histogram, items, 0.99)),
    p999Ms: round3(quantileOf(histogram, items, 0.999)),
    maxMs: round3(max),
    over5MsShare: Math.round((over5 / items) * 1e5) / 1e5,
    measuredBusy: Math.round((working / (performance.now() - start)) * 1000) / 1000,
  };
}

/** Runs the measurement with command-line arguments; prints and returns the summary. */
export function runRoundCeiling(args: readonly string[]): RoundCeiling {
  const { values } = parseArgs({
    args: [...args],
    options: {
      busy: { type: 'string', default: '0.5' },
      'round-ms': { type: 'string', default: '5' },
      'item-us': { type: 'string', default: '1.6' },
      seconds: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean' },
    },
  });
  exitOnHelp(values.help, USAGE);
  const positive = (name: string, value: string, max = Infinity): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`--${name} must be a number above 0${max === Infinity ? '' : ` and at most ${max}`}, got '${value}'\n${USAGE}`);
    return n;
  };
  const options = {
    busy: positive('busy', values.busy, 1),
    roundMs: positive('round-ms', values['round-ms']),
    itemUs: positive('item-us', values['item-us']),
    seconds: positive('seconds', values.seconds),
  };
  const say = sayer(values.json);
  const result = measureRoundCeiling(options, (items) =>
    say(`round ceiling: a round of ${items.toLocaleString('en-US')} items of ${options.itemUs} µs every ${options.roundMs} ms (${Math.round(options.busy * 100)}% busy) for ${options.seconds} s`),
  );
  say(`  measured busy ${Math.round(result.measuredBusy * 100)}%; item latency from its round's due time: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, p99.9 ${result.p999Ms} ms, max ${result.maxMs} ms; ${(result.over5MsShare * 100).toFixed(2)}% over 5 ms`);
  if (values.json) console.log(JSON.stringify(result));
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) runRoundCeiling(process.argv.slice(2));
