/**
 * CPU time from Linux's /proc, for the benchmarks that report it per process or per thread:
 * user + system time from a `stat` file, in Linux's clock ticks (USER_HZ, 100 a second).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's unit of the CPU times in /proc stat files (USER_HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) in the text of a /proc stat file (the name may hold spaces or parentheses). */
export function cpuSecondsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds a process has used so far, all its threads; null where /proc can't tell. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** CPU seconds of every thread of this process so far, with its id and name (threads that end meanwhile are left out). */
export function threadCpuSeconds(): { tid: string; name: string; seconds: number }[] {
  const out: { tid: string; name: string; seconds: number }[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      out.push({ tid, name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), seconds: cpuSecondsOfStat(stat) });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}
