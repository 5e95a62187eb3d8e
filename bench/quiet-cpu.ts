/**
 * Which core a latency-sensitive process of a benchmark should be pinned to: the one that has
 * handled the fewest device interrupts (Linux: the numbered lines of /proc/interrupts, summed per
 * CPU since boot). A device's interrupts — the disk's completions above all — run on whichever
 * core their affinity names, ahead of the process pinned there; on the two-core machine these
 * benchmarks run on, every disk completion lands on CPU 1, so a process pinned there pays for the
 * other process's writes (serving at 280,000 records/s: 70–81 % of its core busy on CPU 1, 62–63 %
 * on CPU 0). Operators keep latency-sensitive services off the cores that take device interrupts
 * for the same reason.
 */
import { readFileSync } from 'node:fs';

/** Device interrupts handled per CPU since boot, from the text of /proc/interrupts. */
export function deviceInterruptsPerCpu(text: string): number[] {
  const [header, ...lines] = text.split('\n');
  const cpus = (header ?? '').trim().split(/\s+/).filter((c) => /^CPU\d+$/.test(c)).length;
  const totals = new Array<number>(cpus).fill(0);
  for (const line of lines) {
    // Numbered lines are devices; named ones (LOC, RES, CAL, TLB…) are the CPUs' own.
    const match = /^\s*\d+:((?:\s+\d+)+)/.exec(line);
    if (match === null) continue;
    const counts = match[1]!.trim().split(/\s+/).map(Number);
    for (let c = 0; c < cpus && c < counts.length; c++) totals[c]! += counts[c]!;
  }
  return totals;
}

/**
 * The CPU among `0 … cores − 1` with the fewest device interrupts (the highest on a tie, as the
 * benchmarks have always pinned to CPU 1 of two); `fallback` where /proc/interrupts can't be read.
 */
export function quietestCpu(cores: number, fallback: number): number {
  let totals: number[];
  try {
    totals = deviceInterruptsPerCpu(readFileSync('/proc/interrupts', 'utf8')).slice(0, cores);
  } catch {
    return fallback;
  }
  if (totals.length < cores) return fallback;
  let best = cores - 1;
  for (let c = cores - 2; c >= 0; c--) if (totals[c]! < totals[best]!) best = c;
  return best;
}
