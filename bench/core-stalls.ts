/**
 * How often the machine itself stops a core: a busy loop reads the clock without pause and records
 * every gap between two reads longer than `--min-ms` — time the loop did not run: another task on
 * its core, interrupts, or a hypervisor that gave the virtual CPU to someone else (which the guest
 * may not see as steal time). Pin it to the core in question with nothing else there, e.g. the
 * core the pipeline benchmark's serving process runs on. A latency target tighter than the stalls
 * this finds cannot be met on that core, whatever runs there.
 *
 * Usage: taskset -c N node bench/core-stalls.ts [--seconds 30] [--min-ms 1] [--json]
 * (or: npx sluice bench core-stalls …). With --json the last line is one JSON object.
 */
import { parseArgs } from 'node:util';
import { exitOnHelp, sayer } from './args.ts';

/** What one measurement found. */
export interface CoreStalls {
  readonly seconds: number;
  /** Gaps longer than the threshold, and longer than 5 ms. */
  readonly stalls: number;
  readonly stallsOver5Ms: number;
  /** The ten longest gaps, longest first, in ms. */
  readonly longestMs: readonly number[];
  /** All gaps together, in ms. */
  readonly stalledMs: number;
  /** Gaps longer than 5 ms per minute. */
  readonly over5MsPerMinute: number;
}

const USAGE = 'usage: sluice bench core-stalls [--seconds 30] [--min-ms 1] [--json]   (pin it: taskset -c N …)';

/** Summarises the gaps (ms) seen over `seconds`. */
export function summarizeStalls(gaps: readonly number[], seconds: number): CoreStalls {
  const sorted = [...gaps].sort((a, b) => b - a);
  const over5 = sorted.filter((g) => g > 5).length;
  return {
    seconds,
    stalls: sorted.length,
    stallsOver5Ms: over5,
    longestMs: sorted.slice(0, 10).map((g) => Math.round(g * 10) / 10),
    stalledMs: Math.round(sorted.reduce((sum, g) => sum + g, 0)),
    over5MsPerMinute: Math.round((over5 / seconds) * 60 * 10) / 10,
  };
}

/** Spins for `seconds`, reading the clock; returns every gap between two reads longer than `minMs`. */
export function spinForGaps(seconds: number, minMs: number): number[] {
  const gaps: number[] = [];
  const end = performance.now() + seconds * 1000;
  let last = performance.now();
  for (;;) {
    const now = performance.now();
    if (now - last > minMs) gaps.push(now - last);
    last = now;
    if (now >= end) return gaps;
  }
}

/** Runs the measurement with command-line arguments; prints and returns the summary. */
export function runCoreStalls(args: readonly string[]): CoreStalls {
  const { values } = parseArgs({
    args: [...args],
    options: {
      seconds: { type: 'string', default: '30' },
      'min-ms': { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  exitOnHelp(values.help, USAGE);
  const seconds = Number(values.seconds);
  const minMs = Number(values['min-ms']);
  if (!(seconds > 0 && seconds <= 3600)) throw new Error(`--seconds must be a number in (0, 3600], got '${values.seconds}'\n${USAGE}`);
  if (!(minMs > 0)) throw new Error(`--min-ms must be a number > 0, got '${values['min-ms']}'\n${USAGE}`);
  const say = sayer(values.json);
  const result = summarizeStalls(spinForGaps(seconds, minMs), seconds);
  say(`core stalls over ${seconds} s: ${result.stalls} gaps > ${minMs} ms (${result.stalledMs} ms in all), ${result.stallsOver5Ms} > 5 ms (${result.over5MsPerMinute} a minute)`);
  say(`  longest: ${result.longestMs.map((g) => `${g} ms`).join(', ') || 'none'}`);
  if (values.json) console.log(JSON.stringify(result));
  return result;
}

if (import.meta.main) {
  try {
    runCoreStalls(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
}
