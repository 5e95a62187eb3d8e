/**
 * What one small append costs a process when appends come one at a time, as a serving instance's
 * anomalies do: a producer on the embedded log appends one `--bytes` record every `--interval-ms`
 * (acks `--acks`), `--appends` times, while `--waiting-consumers` consumers of another topic wait
 * in the same process; the CPU each of the process's threads used meanwhile (Linux:
 * /proc/self/task/<tid>/stat, in 10 ms ticks) is divided by the appends. A run with `--no-append`
 * only sleeps the same way: the cost of waking up, to subtract. Pin it to one core
 * (`taskset -c N`) to see what the appends cost a core that also runs everything else.
 *
 * Usage: taskset -c N node bench/paced-append.ts [--appends 2000] [--interval-ms 3] [--bytes 200]
 *        [--acks leader|all] [--waiting-consumers 0] [--no-append] [--json]
 *        (or: npx sluice bench paced-append …). With --json the last line is one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLog } from '../src/log/index.ts';
import { exitOnHelp, positiveIntParser, sayer } from './args.ts';
import { threadCpuSeconds } from './proc-cpu.ts';

/** What one run found: µs of CPU per append, by thread name (threads of one name summed). */
export interface PacedAppendCost {
  readonly appends: number;
  readonly intervalMs: number;
  readonly acks: 'leader' | 'all';
  readonly waitingConsumers: number;
  readonly appended: boolean;
  readonly cpuUsPerAppend: Readonly<Record<string, number>>;
  readonly totalUsPerAppend: number;
}

const USAGE =
  'usage: sluice bench paced-append [--appends 2000] [--interval-ms 3] [--bytes 200] [--acks leader|all] [--waiting-consumers 0] [--no-append] [--json]   (pin it: taskset -c N …)';
/** CPU ms used so far by the threads of this process, by thread name (threads of one name summed). */
export function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const { name, seconds } of threadCpuSeconds()) out.set(name, (out.get(name) ?? 0) + seconds * 1000);
  return out;
}

/** Runs the paced appends on a fresh embedded log and returns their cost. */
export async function measurePacedAppends(options: {
  appends: number;
  intervalMs: number;
  bytes: number;
  acks: 'leader' | 'all';
  waitingConsumers: number;
  append: boolean;
}): Promise<PacedAppendCost> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-paced-append-'));
  const log = await openLog({ backend: 'embedded', dir });
  try {
    await log.admin.createTopic('out', { partitions: 1 });
    await log.admin.createTopic('in', { partitions: 1 });
    let waiting = true;
    const consumers = Array.from({ length: options.waitingConsumers }, async () => {
      const consumer = log.consumer();
      await consumer.assign([{ topic: 'in', partition: 0 }]);
      while (waiting) await consumer.poll({ timeoutMs: 1_000 });
      await consumer.close();
    });
    const producer = log.producer({ acks: options.acks });
    const record = { topic: 'out', key: null, value: new Uint8Array(options.bytes) };
    // The writer thread starts with the first append: not part of what is measured.
    await producer.send([record]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = threadCpuMs();
    for (let i = 0; i < options.appends; i++) {
      if (options.append) await producer.send([record]);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
    const after = threadCpuMs();
    waiting = false;
    await producer.close();
    await Promise.all(consumers);
    const cpuUsPerAppend: Record<string, number> = {};
    let total = 0;
    for (const [name, ms] of after) {
      const us = Math.round(((ms - (before.get(name) ?? 0)) / options.appends) * 1000);
      if (us === 0) continue;
      cpuUsPerAppend[name] = us;
      total += us;
    }
    return {
      appends: options.appends,
      intervalMs: options.intervalMs,
      acks: options.acks,
      waitingConsumers: options.waitingConsumers,
      appended: options.append,
      cpuUsPerAppend,
      totalUsPerAppend: total,
    };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the measurement with command-line arguments; prints and returns the result. */
export async function runPacedAppend(args: readonly string[]): Promise<PacedAppendCost> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      appends: { type: 'string', default: '2000' },
      'interval-ms': { type: 'string', default: '3' },
      bytes: { type: 'string', default: '200' },
      acks: { type: 'string', default: 'leader' },
      'waiting-consumers': { type: 'string', default: '0' },
      'no-append': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean' },
    },
  });
  exitOnHelp(values.help, USAGE);
  const int = positiveIntParser(USAGE);
  const acks = values.acks;
  if (acks !== 'leader' && acks !== 'all') throw new Error(`--acks must be 'leader' or 'all', got '${acks}'\n${USAGE}`);
  const waitingConsumers = Number(values['waiting-consumers']);
  if (!Number.isSafeInteger(waitingConsumers) || waitingConsumers < 0) throw new Error(`--waiting-consumers must be an integer ≥ 0, got '${values['waiting-consumers']}'\n${USAGE}`);
  const result = await measurePacedAppends({
    appends: int('appends', values.appends),
    intervalMs: int('interval-ms', values['interval-ms']),
    bytes: int('bytes', values.bytes),
    acks,
    waitingConsumers,
    append: !values['no-append'],
  });
  const say = sayer(values.json);
  const what = result.appended ? `one ${values.bytes}-byte append (acks ${acks})` : 'no append (the wake-ups alone)';
  say(`paced append: ${what} every ${result.intervalMs} ms, ${result.appends} times, ${waitingConsumers} consumer(s) of another topic waiting`);
  say(`  CPU per round: ${Object.entries(result.cpuUsPerAppend).map(([thread, us]) => `${thread} ${us} µs`).join(', ')}; ${result.totalUsPerAppend} µs in all`);
  if (values.json) console.log(JSON.stringify(result));
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await runPacedAppend(process.argv.slice(2));
