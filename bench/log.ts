/**
 * Log benchmark: the same records through the same API on either backend.
 *   1. produce throughput with acknowledged, durable sends (acks 'all'), in batches, several in
 *      flight at once (as a busy producer keeps them);
 *   2. consume throughput reading all of it back from the earliest offset;
 *   3. produce→consume latency p50/p99 at half of the measured produce rate, or at --latency-rate
 *      (producer and consumer in this process; the send time travels in the record value).
 * Usage: node bench/log.ts [--backend embedded|kafka] [--brokers host:port] [--dir DIR]
 *          [--records N] [--record-bytes 150] [--batch N] [--in-flight N] [--acks all|leader] [--partitions N] [--latency-rate N] [--latency-seconds S] [--json]
 * With --json the last line of output is one JSON object with the figures.
 */
import { parseArgs } from 'node:util';
import { openLog } from '../src/log/index.ts';
import type { Acks, Log, ProducerRecord } from '../src/log/index.ts';
import { benchLogConfig, LOG_OPTIONS, exitOnHelp, positiveIntParser, sayer } from './args.ts';

/** Figures printed by the benchmark. */
export interface LogBenchResult {
  readonly backend: string;
  readonly records: number;
  readonly recordBytes: number;
  readonly batch: number;
  readonly partitions: number;
  readonly inFlight: number;
  readonly acks: Acks;
  readonly produceRecordsPerSec: number;
  readonly produceMBPerSec: number;
  readonly consumeRecordsPerSec: number;
  readonly latencyRateRecordsPerSec: number;
  readonly p50LatencyMs: number;
  readonly p99LatencyMs: number;
  readonly maxLatencyMs: number;
}

const USAGE =
  'usage: sluice bench log [--backend embedded|kafka] [--brokers host:port] [--dir DIR] [--records N] [--record-bytes 150] [--batch 5000] [--in-flight 4] [--acks all|leader] [--partitions 4] [--latency-rate N] [--latency-seconds 5] [--json]';

/**
 * `count` records over `devices` keys. Values come from a pool of distinct buffers reused in turn,
 * so the run measures the log, not the allocation of a million buffers.
 */
function makeRecords(topic: string, count: number, recordBytes: number, devices: number): ProducerRecord[] {
  const keys = Array.from({ length: devices }, (_, i) => Buffer.from(`device-${String(i).padStart(5, '0')}`));
  const valueBytes = Math.max(8, recordBytes - keys[0]!.byteLength);
  const pool = Array.from({ length: Math.min(count, 8192) }, (_, i) => Buffer.alloc(valueBytes, 0x61 + (i % 26)));
  const records: ProducerRecord[] = new Array(count);
  for (let i = 0; i < count; i++) records[i] = { topic, key: keys[i % devices]!, value: pool[i % pool.length]! };
  return records;
}

/** Sends `records` in batches, keeping up to `inFlight` sends unacknowledged (as a busy producer would). */
async function measureProduce(log: Log, records: readonly ProducerRecord[], batch: number, inFlight: number, acks: Acks): Promise<number> {
  const producer = log.producer({ acks });
  const start = performance.now();
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < records.length; i += batch) {
    const sent = producer.send(records.slice(i, i + batch));
    pending.add(sent);
    void sent.then(() => pending.delete(sent));
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  await producer.close();
  return records.length / seconds;
}

async function measureConsume(log: Log, topic: string, partitions: number, total: number): Promise<number> {
  const consumer = log.consumer({ maxPollRecords: 20_000 });
  await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  for (let partition = 0; partition < partitions; partition++) await consumer.seek({ topic, partition }, 'earliest');
  let read = 0;
  let bytes = 0;
  const start = performance.now();
  while (read < total) {
    const records = await consumer.poll({ timeoutMs: 5_000 });
    if (records.length === 0) throw new Error(`consume stalled after ${read} of ${total} records`);
    read += records.length;
    for (const r of records) bytes += r.value.byteLength;
  }
  const seconds = (performance.now() - start) / 1000;
  await consumer.close();
  if (bytes === 0) throw new Error('consumed no bytes');
  return read / seconds;
}

/** Sends at `rate` records/s for `seconds` while a consumer reads; returns each record's delay. */
async function measureLatency(log: Log, topic: string, partitions: number, recordBytes: number, rate: number, seconds: number, acks: Acks): Promise<number[]> {
  const producer = log.producer({ acks });
  const consumer = log.consumer();
  await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  for (let partition = 0; partition < partitions; partition++) await consumer.seek({ topic, partition }, 'latest');
  const template = makeRecords(topic, 1, recordBytes, 1)[0]!;
  const delays: number[] = [];
  let sent = 0;
  let producing = true;
  const consumed = (async () => {
    while (producing || delays.length < sent) {
      const records = await consumer.poll({ timeoutMs: 200 });
      const now = performance.now();
      for (const r of records) delays.push(now - Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).readDoubleLE(0));
      if (!producing && records.length === 0) break;
    }
  })();
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
    if (due > 0) {
      const batch: ProducerRecord[] = new Array(due);
      const t = performance.now();
      for (let i = 0; i < due; i++) {
        const value = Buffer.alloc(template.value.byteLength);
        value.writeDoubleLE(t, 0);
        batch[i] = { topic, key: template.key ?? null, value };
      }
      await producer.send(batch);
      sent += due;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  producing = false;
  await consumed;
  await producer.close();
  await consumer.close();
  if (delays.length < sent) throw new Error(`latency run lost records: sent ${sent}, consumed ${delays.length}`);
  return delays;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

/** Runs the log benchmark with command-line arguments (see the usage above). */
export async function runLogBench(args: readonly string[]): Promise<LogBenchResult> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      ...LOG_OPTIONS,
      records: { type: 'string', default: '1000000' },
      'record-bytes': { type: 'string', default: '150' },
      batch: { type: 'string', default: '5000' },
      partitions: { type: 'string', default: '4' },
      'in-flight': { type: 'string', default: '4' },
      acks: { type: 'string', default: 'all' },
      'latency-rate': { type: 'string' },
      'latency-seconds': { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  exitOnHelp(values.help, USAGE);
  const int = positiveIntParser(USAGE);
  const total = int('records', values.records);
  const recordBytes = int('record-bytes', values['record-bytes']);
  const batch = int('batch', values.batch);
  const partitions = int('partitions', values.partitions);
  const inFlight = int('in-flight', values['in-flight']);
  const acks = values.acks;
  if (acks !== 'all' && acks !== 'leader') throw new Error(`--acks must be 'all' or 'leader', got '${acks}'\n${USAGE}`);
  const latencySeconds = int('latency-seconds', values['latency-seconds']);
  const json = values.json;
  const say = sayer(json);
  const { config, cleanup } = benchLogConfig(values, USAGE);

  const log = await openLog(config);
  try {
    const topic = `bench-log-${Date.now()}`;
    const latencyTopic = `${topic}-latency`;
    await log.admin.createTopic(topic, { partitions });
    await log.admin.createTopic(latencyTopic, { partitions });
    say(`backend ${values.backend}: ${total} records of ${recordBytes} bytes, batches of ${batch} (${inFlight} in flight), ${partitions} partitions`);
    const records = makeRecords(topic, total, recordBytes, 1000);
    const produce = await measureProduce(log, records, batch, inFlight, acks);
    say(`produce (acks ${acks}): ${Math.round(produce).toLocaleString('en')} records/s, ${((produce * recordBytes) / 1e6).toFixed(1)} MB/s`);
    const consume = await measureConsume(log, topic, partitions, total);
    say(`consume:            ${Math.round(consume).toLocaleString('en')} records/s`);
    const rate = values['latency-rate'] === undefined ? Math.max(1, Math.floor(produce / 2)) : int('latency-rate', values['latency-rate']);
    const delays = (await measureLatency(log, latencyTopic, partitions, recordBytes, rate, latencySeconds, acks)).sort((a, b) => a - b);
    const result: LogBenchResult = {
      backend: values.backend,
      records: total,
      recordBytes,
      batch,
      partitions,
      inFlight,
      acks,
      produceRecordsPerSec: Math.round(produce),
      produceMBPerSec: round((produce * recordBytes) / 1e6, 1),
      consumeRecordsPerSec: Math.round(consume),
      latencyRateRecordsPerSec: rate,
      p50LatencyMs: round(percentile(delays, 50), 3),
      p99LatencyMs: round(percentile(delays, 99), 3),
      maxLatencyMs: round(delays[delays.length - 1] ?? NaN, 3),
    };
    say(`latency at ${rate.toLocaleString('en')} records/s (${delays.length} records): p50 ${result.p50LatencyMs} ms, p99 ${result.p99LatencyMs} ms, max ${result.maxLatencyMs} ms`);
    await log.admin.deleteTopic(topic);
    await log.admin.deleteTopic(latencyTopic);
    if (json) console.log(JSON.stringify(result));
    return result;
  } finally {
    await log.close();
    cleanup();
  }
}

if (import.meta.main) {
  runLogBench(process.argv.slice(2)).catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
