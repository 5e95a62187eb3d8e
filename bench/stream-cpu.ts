/**
 * CPU time per thread of one run of the stream benchmark (Linux: /proc/self/task), from the first
 * committed batch until the last input record is committed — robust to other load on the machine,
 * unlike records/s. Takes bench/stream.ts's arguments; prints one line per thread (CPU-s and µs per
 * record) and the total. Run one job at a time for per-job figures:
 *
 *   taskset -c 1 npx node bench/stream-cpu.ts --jobs map
 */
import { channel } from 'node:diagnostics_channel';
import { BATCH_CHANNEL } from '../src/stream/index.ts';
import { threadCpuSeconds } from './proc-cpu.ts';
import { runStreamBench } from './stream.ts';

/** CPU seconds (user + system) of every thread of this process, by "tid:name". */
function threadCpu(): Map<string, number> {
  return new Map(threadCpuSeconds().map(({ tid, name, seconds }) => [`${tid}:${name}`, seconds]));
}

const args = process.argv.slice(2);
const at = args.indexOf('--records');
const total = at >= 0 ? Number(args[at + 1]) : 1_000_000;
let first: Map<string, number> | null = null;
let last: Map<string, number> | null = null;
let records = 0;
channel(BATCH_CHANNEL).subscribe((message) => {
  first ??= threadCpu();
  records += (message as { records: number }).records;
  if (records >= total && last === null) last = threadCpu();
});
await runStreamBench(args);
if (first === null || last === null) throw new Error('stream-cpu: the run committed fewer records than --records');
let sum = 0;
for (const [thread, end] of last as Map<string, number>) {
  const used = end - ((first as Map<string, number>).get(thread) ?? 0);
  if (used < 0.005) continue;
  sum += used;
  console.log(`${thread.padEnd(28)} ${used.toFixed(2)} CPU-s  ${((used / records) * 1e6).toFixed(2)} µs/record`);
}
console.log(`total ${sum.toFixed(2)} CPU-s  ${((sum / records) * 1e6).toFixed(2)} µs/record over ${records} records`);
