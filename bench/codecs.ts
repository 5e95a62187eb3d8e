/**
 * Codec throughput: encode and decode records/s of telemetryCodec and jsonCodec on the same
 * typical telemetry records (12-character device ids, ts, seq, 6-8 metrics with short names),
 * on one thread. Each figure is the best of several rounds (the median is printed too).
 *
 *   npx node bench/codecs.ts [--json] [--rounds 7] [--ops 1000000]
 *
 * With `--json` the last line is one JSON object with the figures.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type Codec, type Telemetry, jsonCodec, telemetryCodec } from '../src/log/index.ts';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, rounds: { type: 'string', default: '7' }, ops: { type: 'string', default: '1000000' } },
});
const rounds = Number(args.rounds);
const ops = Number(args.ops);

const METRIC_SETS = [
  ['temp', 'humidity', 'pressure', 'vibration', 'rpm', 'voltage', 'current', 'power'],
  ['temp', 'vibration', 'rpm', 'load', 'torque', 'oil_temp'],
  ['voltage', 'current', 'power', 'freq', 'pf', 'energy', 'temp'],
];

/** 1024 records over 256 devices, as a gateway would see them. */
function makeRecords(): Telemetry[] {
  const records: Telemetry[] = [];
  for (let i = 0; i < 1024; i++) {
    const names = METRIC_SETS[i % METRIC_SETS.length] as string[];
    const metrics: Record<string, number> = {};
    for (const name of names) metrics[name] = Math.round(Math.sin(i + name.length) * 1e4) / 100;
    records.push({ deviceId: `device-${String(i % 256).padStart(5, '0')}`, ts: 1_700_000_000_000 + i * 250, seq: 10_000 + i, metrics });
  }
  return records;
}

interface Figures {
  readonly encodePerSec: number;
  readonly decodePerSec: number;
  readonly encodeMedianPerSec: number;
  readonly decodeMedianPerSec: number;
  readonly bytesPerRecord: number;
}

let sink = 0;

function measure(codec: Codec<Telemetry>, records: readonly Telemetry[], n: number): Figures {
  const encoded = records.map((r) => codec.encode(r));
  const mask = records.length - 1;
  const enc: number[] = [];
  const dec: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    let t = performance.now();
    for (let i = 0; i < n; i++) sink += codec.encode(records[i & mask] as Telemetry).length;
    const encMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < n; i++) sink += codec.decode(encoded[i & mask] as Uint8Array).ts;
    const decMs = performance.now() - t;
    if (round > 0) {
      enc.push((n / encMs) * 1000); // round 0 is the warm-up
      dec.push((n / decMs) * 1000);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
  return {
    encodePerSec: Math.round(Math.max(...enc)),
    decodePerSec: Math.round(Math.max(...dec)),
    encodeMedianPerSec: Math.round(median(enc)),
    decodeMedianPerSec: Math.round(median(dec)),
    bytesPerRecord: Math.round(encoded.reduce((sum, b) => sum + b.length, 0) / encoded.length),
  };
}

const records = makeRecords();
const results = {
  telemetry: measure(telemetryCodec, records, ops),
  json: measure(jsonCodec<Telemetry>(), records, Math.max(1, Math.floor(ops / 4))),
};
const fmt = (n: number): string => n.toLocaleString('en-US').padStart(11);
console.log(`codec throughput, one thread, node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown cpu'} (best of ${rounds}; median)`);
for (const [name, f] of Object.entries(results)) {
  console.log(
    `${name.padEnd(10)} encode ${fmt(f.encodePerSec)} rec/s (${fmt(f.encodeMedianPerSec)})  ` +
      `decode ${fmt(f.decodePerSec)} rec/s (${fmt(f.decodeMedianPerSec)})  ${f.bytesPerRecord} B/record`,
  );
}
if (sink === 0) console.log('(unreachable)');
if (args.json) console.log(JSON.stringify({ bench: 'codecs', node: process.version, rounds, ops, ...results }));
