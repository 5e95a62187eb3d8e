/**
 * Pipeline benchmark (issue 5): telemetry → serving → anomalies, with the serving instance in its
 * own process (bench/pipeline-serve.ts) pinned to one core with taskset (when it exists; otherwise
 * unpinned, and the output says so): `--serving-cpu`, by default the core that has handled the
 * fewest device interrupts (bench/quiet-cpu.ts: on the two-core machine of BENCHMARKS.md the
 * disk's completions all land on CPU 1, so serving runs on CPU 0). The parent produces and reads
 * on the other cores.
 *
 * 1. Throughput, per detector (robust-zscore, half-space-trees): `--records` telemetry records of
 *    `--devices` devices (4 metrics) are appended first; then the instance starts and scores them.
 *    Records/s = records handled between its first and last progress report / the time between.
 * 2. Hot swap under steady load (robust-zscore): a round of readings of every device every 5 ms
 *    (`--rate` records/s), every scored record written to a scores topic (one output per input);
 *    1 s of warm-up (start-up and compilation: not steady), 1 s steady, then 20 new versions
 *    published 250 ms apart. Swap latency = first `scoredAt` of a
 *    version − the wall-clock time its models record was acknowledged. The latency of each record
 *    (below) during the 100 ms after each publish is compared with the steady p99.
 * 3. Redeploy alternative, same load: the instance is stopped and a new one started with a new
 *    version; the gap = first `scoredAt` of the new instance − the last before it.
 *    Lost and duplicated records are counted per input (device, seq) over phases 2 and 3.
 * 4. End-to-end latency at half the robust-zscore throughput of phase 1 (or `--e2e-rate`): the
 *    instance as in phase 1 (it writes anomalies only), steady traffic as in phase 2 with every
 *    997th record a spike (a round every `--e2e-tick-ms`, 5 by default: how long the producer
 *    lingers); 3 s of warm-up, then `--e2e-seconds` (8) measured. Per anomaly of a
 *    spike: its append time − its telemetry record's append time, both the log's own
 *    (`LogRecord.appendedAt`, embedded backend) — the figure issue 5's target is about; also
 *    `scoredAt` − the time the telemetry was sent (before the producer encodes it), and the time a
 *    consumer here reads the anomaly back − that send time. Also the CPU the serving process used
 *    meanwhile, in % of its core (Linux: /proc/<pid>/stat), and its garbage collections (count of
 *    mark-compacts and scavenges, total pause).
 *
 * Usage: node bench/pipeline.ts [--records N] [--devices N] [--rate N] [--backend embedded|kafka]
 *        [--phases throughput,swap,e2e] [--e2e-rate N] [--e2e-seconds 8] [--e2e-tick-ms 5] [--serving-cpu N]
 *        [--cpu-prof DIR] [--json] (or: npx sluice bench pipeline …). --cpu-prof profiles the serving process of phase 1
 *        (of phase 4 when phase 1 is not run). `--phases` runs only some phases (figures of the
 *        others are null); `--e2e-rate` sets phase 4's rate instead of half of phase 1's maximum, and
 *        `--e2e-seconds` how long its measured traffic lasts.
 *        With --json the last line is one JSON object.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openLog, telemetryCodec, type Log, type LogConfig, type LogRecord, type ProducerRecord, type Telemetry } from '../src/log/index.ts';
import { createDescriptor, halfSpaceTrees, ModelStore, robustZScore, type DetectorFactory, type Observation } from '../src/model/index.ts';
import { anomalyCodec, ensureModelsTopic, publishDescriptor, type ScoredRecord } from '../src/serving/index.ts';
import { benchLogConfig, LOG_OPTIONS, exitOnHelp, positiveIntParser, sayer } from './args.ts';
import { processCpuSeconds } from './proc-cpu.ts';
import { quietestCpu } from './quiet-cpu.ts';

/** Everything the benchmark prints with --json. */
export interface PipelineBenchResult {
  readonly node: string;
  readonly backend: string;
  readonly pinned: string;
  readonly loadAvg1m: number;
  /** Phase 1: records/s with robust-zscore (also `recordsPerSec`) and half-space-trees. */
  readonly recordsPerSec: number | null;
  readonly throughput: Readonly<Record<string, number>>;
  readonly swapP99Ms: number | null;
  readonly swapMaxMs: number | null;
  readonly steadyP99Ms: number | null;
  readonly swapWindowMaxMs: number | null;
  readonly redeployGapMs: number | null;
  readonly lostRecords: number | null;
  readonly duplicateRecords: number | null;
  readonly e2eRate: number | null;
  /** Phase 4: a round of traffic every this many ms. */
  readonly e2eTickMs: number | null;
  /**
   * Phase 4, the figure of issue 5's target: telemetry record appended → its anomaly appended, by
   * the log's append times (embedded backend; null on Kafka, which keeps none).
   */
  readonly e2eP99Ms: number | null;
  readonly e2eP50Ms: number | null;
  /** Phase 4: the share of those anomalies appended more than 5 ms after their telemetry (the p99 target allows 0.01). */
  readonly e2eOver5MsShare: number | null;
  /** Phase 4, telemetry sent (before the producer encodes it) → anomaly scored (right before its append), p99. */
  readonly e2eScoredP99Ms: number | null;
  /** Phase 4, telemetry sent → anomaly read back by a consumer in the benchmark process, p99. */
  readonly e2eVisibleP99Ms: number | null;
  /** Phase 4: anomalies measured. */
  readonly e2eAnomalies: number | null;
  /** Phase 4: CPU the serving process used during the measured traffic, % of one core (Linux; null elsewhere). */
  readonly e2eServingCpuPercent: number | null;
  /** Phase 4: the serving process's garbage collections during the measured traffic, and their pauses. */
  readonly e2eServingGc: GcCounts | null;
}

/** Garbage collections of the serving process (its progress reports), and their total pause. */
interface GcCounts {
  readonly markCompacts: number;
  readonly scavenges: number;
  readonly pauseMs: number;
}

const USAGE =
  'usage: sluice bench pipeline [--records 300000] [--devices 200] [--rate 10000] [--backend embedded|kafka] [--phases throughput,swap,e2e] [--e2e-rate N] [--e2e-seconds 8] [--e2e-tick-ms 5] [--serving-cpu N] [--cpu-prof DIR] [--json]';
const PHASES = ['throughput', 'swap', 'e2e'] as const;
const FEATURES = ['temp', 'vibration', 'pressure', 'current'] as const;
const CHILD = fileURLToPath(new URL('./pipeline-serve.ts', import.meta.url));
const SWAPS = 20;
/** Steady traffic: a round every this many ms (phase 4: `--e2e-tick-ms`). */
const TICK_MS = 5;
/** How often the serving process reports progress in phase 1 (throughput is measured from the reports)… */
const THROUGHPUT_PROGRESS_MS = 20;
/** …and in the other phases (which only wait for a count). */
const PROGRESS_MS = 200;
/** Phase 4: one record in this many is a spike. */
const SPIKE_EVERY = 997;
/** Phase 4's traffic before the measured window. */
const E2E_WARMUP_MS = 3_000;

/** Runs the benchmark with CLI-style arguments; prints figures (and JSON last with --json). */
export async function runPipelineBench(args: readonly string[]): Promise<PipelineBenchResult> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      records: { type: 'string', default: '300000' },
      devices: { type: 'string', default: '200' },
      rate: { type: 'string', default: '10000' },
      ...LOG_OPTIONS,
      phases: { type: 'string', default: PHASES.join(',') },
      'e2e-rate': { type: 'string' },
      'e2e-seconds': { type: 'string', default: '8' },
      'e2e-tick-ms': { type: 'string', default: String(TICK_MS) },
      'serving-cpu': { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  exitOnHelp(values.help, USAGE);
  const int = positiveIntParser(USAGE);
  const records = int('records', values.records);
  const devices = int('devices', values.devices);
  const rate = int('rate', values.rate);
  const phases = new Set(values.phases.split(',').map((p) => p.trim()));
  for (const p of phases) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--phases: unknown phase '${p}' (phases: ${PHASES.join(', ')})\n${USAGE}`);
  const fixedE2eRate = values['e2e-rate'] === undefined ? null : int('e2e-rate', values['e2e-rate']);
  const e2eSeconds = int('e2e-seconds', values['e2e-seconds']);
  const e2eTickMs = int('e2e-tick-ms', values['e2e-tick-ms']);
  if (phases.has('e2e') && !phases.has('throughput') && fixedE2eRate === null) throw new Error(`--phases: e2e without throughput needs --e2e-rate\n${USAGE}`);
  const say = sayer(values.json);
  const { config, cleanup } = benchLogConfig(values, USAGE);
  const modelsDir = mkdtempSync(join(tmpdir(), 'sluice-bench-models-'));
  const run = `p${process.pid}-${Date.now().toString(36)}`;
  const cores = availableParallelism();
  const servingCpu = values['serving-cpu'] === undefined ? quietestCpu(cores, 1) : cpuIndex(values['serving-cpu'], cores);
  const pin = spawnSync('taskset', ['--version']).status === 0 && cores > 1 ? ['taskset', '-c', String(servingCpu)] : [];
  // This process (producer, readers and their log threads) keeps off the serving core.
  const others = Array.from({ length: cores }, (_, c) => c)
    .filter((c) => c !== servingCpu)
    .join(',');
  const selfPinned = pin.length > 0 && spawnSync('taskset', ['-a', '-pc', others, String(process.pid)]).status === 0;
  const pinned = pin.length > 0 ? `taskset -c ${servingCpu}${selfPinned ? `, the benchmark itself on ${others}` : ''}` : 'not pinned (no taskset)';
  say(`pipeline bench: ${config.backend}, serving ${pinned}, load average ${loadavg()[0]!.toFixed(2)}, ${cores} cores`);
  const log = await openLog(config);
  const ctx: Ctx = { log, config, modelsDir, run, pin, devices };
  try {
    const throughput: Record<string, number> = {};
    if (phases.has('throughput')) {
      for (const detector of [robustZScore, halfSpaceTrees]) {
        throughput[detector.kind] = await measureThroughput(ctx, detector, records, values['cpu-prof']);
        say(`  throughput ${detector.kind}: ${Math.round(throughput[detector.kind]!).toLocaleString('en-US')} records/s (${records.toLocaleString('en-US')} records, one core)`);
      }
    }
    const swap = phases.has('swap') ? await measureSwaps(ctx, rate) : null;
    if (swap !== null) {
      say(`  hot swap at ${rate.toLocaleString('en-US')} records/s: publish → first record scored p99 ${swap.swapP99Ms.toFixed(1)} ms (max ${swap.swapMaxMs.toFixed(1)}) over ${SWAPS} swaps`);
      say(`    record latency steady p99 ${swap.steadyP99Ms.toFixed(1)} ms; max within 100 ms after a publish ${swap.swapWindowMaxMs.toFixed(1)} ms`);
      say(`    redeploy (stop, start with the new model): scoring stopped for ${swap.redeployGapMs.toFixed(0)} ms`);
      say(`    ${swap.inputs.toLocaleString('en-US')} inputs: ${swap.lost} lost, ${swap.duplicates} duplicated`);
    }
    const e2eRate = phases.has('e2e') ? (fixedE2eRate ?? Math.max(1_000, Math.round(throughput[robustZScore.kind]! / 2))) : null;
    const e2eProfile = phases.has('throughput') ? undefined : values['cpu-prof'];
    const e2e = e2eRate === null ? null : await measureE2e(ctx, e2eRate, e2eSeconds, e2eTickMs, e2eProfile);
    if (e2e !== null) {
      const why = fixedE2eRate === null ? 'half the robust-zscore maximum' : '--e2e-rate';
      say(`  end-to-end at ${e2eRate!.toLocaleString('en-US')} records/s (${why}), a round every ${e2eTickMs} ms, ${e2e.n.toLocaleString('en-US')} anomalies:`);
      if (e2e.appendP99 !== null) say(`    telemetry appended → anomaly appended p50 ${e2e.appendP50!.toFixed(2)} ms, p99 ${e2e.appendP99.toFixed(2)} ms, ${(e2e.appendOver5MsShare! * 100).toFixed(2)}% over 5 ms (${e2e.appendN} anomalies of spikes)`);
      say(`    telemetry sent → anomaly scored p50 ${e2e.p50.toFixed(1)} ms, p99 ${e2e.p99.toFixed(1)} ms; → anomaly read back p50 ${e2e.visibleP50.toFixed(1)} ms, p99 ${e2e.visibleP99.toFixed(1)} ms`);
      if (e2e.servingCpuPercent !== null) say(`    the serving process used ${Math.round(e2e.servingCpuPercent)}% of its core meanwhile (all its threads)`);
      const gc = e2e.servingGc;
      say(`    its garbage collections meanwhile: ${gc.markCompacts} mark-compact, ${gc.scavenges} scavenges, ${gc.pauseMs} ms of pauses in all`);
    }
    const result: PipelineBenchResult = {
      node: process.version,
      backend: config.backend,
      pinned,
      loadAvg1m: Number(loadavg()[0]!.toFixed(2)),
      recordsPerSec: throughput[robustZScore.kind] === undefined ? null : Math.round(throughput[robustZScore.kind]!),
      throughput: Object.fromEntries(Object.entries(throughput).map(([k, v]) => [k, Math.round(v)])),
      swapP99Ms: swap && round2(swap.swapP99Ms),
      swapMaxMs: swap && round2(swap.swapMaxMs),
      steadyP99Ms: swap && round2(swap.steadyP99Ms),
      swapWindowMaxMs: swap && round2(swap.swapWindowMaxMs),
      redeployGapMs: swap && Math.round(swap.redeployGapMs),
      lostRecords: swap && swap.lost,
      duplicateRecords: swap && swap.duplicates,
      e2eRate,
      e2eTickMs: e2eRate === null ? null : e2eTickMs,
      e2eP99Ms: e2e?.appendP99 == null ? null : round2(e2e.appendP99),
      e2eOver5MsShare: e2e?.appendOver5MsShare ?? null,
      e2eP50Ms: e2e?.appendP50 == null ? null : round2(e2e.appendP50),
      e2eScoredP99Ms: e2e && round2(e2e.p99),
      e2eVisibleP99Ms: e2e && round2(e2e.visibleP99),
      e2eAnomalies: e2e && e2e.n,
      e2eServingCpuPercent: e2e?.servingCpuPercent == null ? null : Math.round(e2e.servingCpuPercent),
      e2eServingGc: e2e?.servingGc ?? null,
    };
    if (values.json) console.log(JSON.stringify(result));
    return result;
  } finally {
    await log.close();
    rmSync(modelsDir, { recursive: true, force: true });
    cleanup();
  }
}

interface Ctx {
  readonly log: Log;
  readonly config: LogConfig;
  readonly modelsDir: string;
  readonly run: string;
  readonly pin: readonly string[];
  readonly devices: number;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function reading(device: number, seq: number, ts: number): Telemetry {
  const phase = seq / 20 + device;
  return {
    deviceId: `dev-${device}`,
    ts,
    seq,
    tags: { class: 'pump' },
    metrics: { temp: 60 + 5 * Math.sin(phase), vibration: 1 + 0.2 * Math.cos(phase * 1.3), pressure: 3 + 0.1 * ((seq * 7919) % 13), current: 10 + Math.sin(phase / 3) },
  };
}

function fitModel(detector: DetectorFactory, version: number) {
  const history: Observation[] = [];
  for (let i = 0; i < 2_000; i++) {
    const r = reading(i % 10, i, 1_700_000_000_000 + i * 1_000);
    history.push({ ts: r.ts, values: r.metrics });
  }
  return createDescriptor({ name: 'default', version, model: detector.fit(history, { features: FEATURES }) });
}

interface Topics {
  readonly telemetry: string;
  readonly models: string;
  readonly anomalies: string;
  readonly dlq: string;
  readonly scores?: string;
  /** The phase's own model store (every phase publishes its own `default` v1, v2, …). */
  readonly store: ModelStore;
}

async function topicsFor(ctx: Ctx, phase: string, scores: boolean): Promise<Topics> {
  const name = (t: string): string => `bench-${ctx.run}-${phase}-${t}`;
  const store = new ModelStore({ dir: join(ctx.modelsDir, phase) });
  const topics: Topics = { telemetry: name('telemetry'), models: name('models'), anomalies: name('anomalies'), dlq: name('dlq'), ...(scores ? { scores: name('scores') } : {}), store };
  for (const t of [topics.telemetry, topics.anomalies, topics.dlq, ...(scores ? [topics.scores!] : [])]) await ctx.log.admin.createTopic(t, { partitions: 1 });
  await ensureModelsTopic(ctx.log.admin, topics.models);
  return topics;
}

async function publish(ctx: Ctx, topics: Topics, detector: DetectorFactory, version: number): Promise<number> {
  await publishDescriptor(ctx.log, topics.models, await topics.store.save(fitModel(detector, version)));
  return Date.now();
}

/** A serving child process and its JSON events. */
interface Serving {
  readonly child: ChildProcess;
  /** The latest progress report: wall clock, records handled, garbage collections so far. */
  progress: { t: number; records: number; gc: GcCounts } | null;
  /** Progress reports with records > 0: the first one. */
  firstBusy: { t: number; records: number; gc: GcCounts } | null;
  waitFor(event: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a serving instance in its own pinned process. It reports progress every `progressMs`:
 * often where throughput is measured from the reports (phase 1), seldom elsewhere, so that the
 * reports do not wake the measured process more than the traffic does.
 */
function startServingProcess(ctx: Ctx, topics: Topics, phase: string, progressMs: number, profileDir?: string): Serving {
  const { store, ...names } = topics;
  const config = { log: ctx.config, modelsDir: store.dir, applicationId: `bench-${ctx.run}-${phase}`, topics: names, progressMs };
  const nodeArgs = [...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]), CHILD, JSON.stringify(config)];
  const [cmd, ...rest] = ctx.pin.length > 0 ? [...ctx.pin, process.execPath, ...nodeArgs] : [process.execPath, ...nodeArgs];
  const child = spawn(cmd!, rest, { stdio: ['pipe', 'pipe', 'inherit'] });
  const seen = new Set<string>();
  const waiters: { event: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  const s: Serving = {
    child,
    progress: null,
    firstBusy: null,
    waitFor: (event) =>
      seen.has(event)
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            waiters.push({ event, resolve, reject });
          }),
    async stop() {
      child.stdin!.write('stop\n');
      await s.waitFor('stopped');
    },
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as { event: string; t?: number; records?: number; gc?: GcCounts };
    if (e.event === 'progress') {
      s.progress = { t: e.t!, records: e.records!, gc: e.gc! };
      if (s.firstBusy === null && e.records! > 0) s.firstBusy = s.progress;
      return;
    }
    seen.add(e.event);
    for (const w of waiters.filter((x) => x.event === e.event)) w.resolve();
  });
  child.on('exit', (code) => {
    for (const w of waiters) if (!seen.has(w.event)) w.reject(new Error(`the serving process exited (${code}) before '${w.event}'`));
  });
  return s;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench pipeline: ${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function measureThroughput(ctx: Ctx, detector: DetectorFactory, records: number, profileDir: string | undefined): Promise<number> {
  const topics = await topicsFor(ctx, `tp-${detector.kind}`, false);
  await publish(ctx, topics, detector, 1);
  const producer = ctx.log.producer();
  const t0 = 1_700_000_000_000;
  for (let from = 0; from < records; from += 10_000) {
    const batch: ProducerRecord[] = [];
    for (let i = from; i < Math.min(records, from + 10_000); i++) {
      const r = reading(i % ctx.devices, Math.floor(i / ctx.devices), t0 + i);
      batch.push({ topic: topics.telemetry, key: new TextEncoder().encode(r.deviceId), value: telemetryCodec.encode(r) });
    }
    await producer.send(batch);
  }
  await producer.close();
  const s = startServingProcess(ctx, topics, `tp-${detector.kind}`, THROUGHPUT_PROGRESS_MS, profileDir);
  await s.waitFor('ready');
  await until(() => (s.progress?.records ?? 0) >= records || s.child.exitCode !== null, 300_000, `${records} records scored`);
  if (s.child.exitCode !== null) throw new Error(`bench pipeline: the serving process exited (${s.child.exitCode}) while scoring`);
  const first = s.firstBusy!;
  const last = s.progress!;
  await s.stop();
  return ((last.records - first.records) / Math.max(1, last.t - first.t)) * 1_000;
}

/**
 * Steady traffic: a round of every device's readings each tick; each record's timestamp (and `ts`)
 * is its send time. With `spikeEvery`, every such record (counting all devices) reads 50 degrees
 * too hot — an anomaly for every model fitted here.
 */
function traffic(ctx: Ctx, topic: string, perSecond: number, spikeEvery = 0, tickMs = TICK_MS) {
  const producer = ctx.log.producer();
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1_000));
  const seqs = new Array<number>(ctx.devices).fill(0);
  const encoder = new TextEncoder();
  const keys = Array.from({ length: ctx.devices }, (_, d) => encoder.encode(`dev-${d}`));
  let next = 0;
  let sent = 0;
  let running = true;
  /** Telemetry offset of each spike, by "deviceId#seq". */
  const spikes = new Map<string, number>();
  const done = (async () => {
    let due = performance.now();
    while (running) {
      const now = Date.now();
      const batch: ProducerRecord[] = [];
      /** This round's spikes: position in the batch and "deviceId#seq". */
      const roundSpikes: [number, string][] = [];
      for (let k = 0; k < perTick; k++) {
        const d = next;
        next = (next + 1) % ctx.devices;
        const r = reading(d, seqs[d]!++, now);
        const spike = spikeEvery > 0 && (sent + k) % spikeEvery === 0;
        if (spike) roundSpikes.push([k, `${r.deviceId}#${r.seq}`]);
        const value = spike ? { ...r, metrics: { ...r.metrics, temp: r.metrics.temp! + 50 } } : r;
        batch.push({ topic, key: keys[d]!, value: telemetryCodec.encode(value), timestamp: now });
      }
      const landed = await producer.send(batch);
      for (const [k, id] of roundSpikes) spikes.set(id, landed[k]!.offset);
      sent += batch.length;
      due += tickMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await producer.close();
  })();
  return {
    sent: () => sent,
    spikes,
    async stop(): Promise<number> {
      running = false;
      await done;
      return sent;
    },
  };
}

async function readScores(ctx: Ctx, topic: string, count: number): Promise<(ScoredRecord & { readonly raw: LogRecord })[]> {
  const consumer = ctx.log.consumer();
  const out: (ScoredRecord & { readonly raw: LogRecord })[] = [];
  try {
    await consumer.assign([{ topic, partition: 0 }]);
    const deadline = Date.now() + 120_000;
    while (out.length < count && Date.now() < deadline) for (const raw of await consumer.poll({ timeoutMs: 200 })) out.push({ ...anomalyCodec.decode(raw.value), raw });
    // Anything more (duplicates) would be there by now.
    for (const raw of await consumer.poll({ timeoutMs: 500 })) out.push({ ...anomalyCodec.decode(raw.value), raw });
  } finally {
    await consumer.close();
  }
  return out;
}

async function measureSwaps(ctx: Ctx, rate: number) {
  const topics = await topicsFor(ctx, 'swap', true);
  await publish(ctx, topics, robustZScore, 1);
  let s = startServingProcess(ctx, topics, 'swap', PROGRESS_MS);
  await s.waitFor('ready');
  const load = traffic(ctx, topics.telemetry, rate);
  await until(() => (s.progress?.records ?? 0) > 0, 30_000, 'first record scored');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const steadyFrom = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const published = new Map<number, number>();
  for (let v = 2; v <= SWAPS + 1; v++) {
    published.set(v, await publish(ctx, topics, robustZScore, v));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // Redeploy: stop the instance, publish a new version while it is down, start a new one (it boots with it).
  const redeployVersion = SWAPS + 2;
  await s.stop();
  await publish(ctx, topics, robustZScore, redeployVersion);
  s = startServingProcess(ctx, topics, 'swap', PROGRESS_MS);
  await s.waitFor('ready');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const inputs = await load.stop();
  const scored = await readScores(ctx, topics.scores!, inputs);
  await s.stop();

  const seen = new Map<string, number>();
  for (const r of scored) seen.set(`${r.deviceId}#${r.seq}`, (seen.get(`${r.deviceId}#${r.seq}`) ?? 0) + 1);
  const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
  const lost = inputs - seen.size;
  const latency = (r: ScoredRecord & { raw: LogRecord }): number => r.scoredAt - r.raw.timestamp;
  const steady = scored.filter((r) => r.raw.timestamp >= steadyFrom && r.raw.timestamp < published.get(2)! - 50).map(latency).sort((a, b) => a - b);
  const swapLatencies: number[] = [];
  let swapWindowMax = 0;
  for (const [v, at] of published) {
    const mine = scored.filter((r) => r.model.version === v);
    if (mine.length > 0) swapLatencies.push(Math.min(...mine.map((r) => r.scoredAt)) - at);
    for (const r of scored) if (r.scoredAt >= at && r.scoredAt < at + 100) swapWindowMax = Math.max(swapWindowMax, latency(r));
  }
  swapLatencies.sort((a, b) => a - b);
  const byTime = [...scored].sort((a, b) => a.scoredAt - b.scoredAt);
  const firstNew = byTime.findIndex((r) => r.model.version === redeployVersion);
  const redeployGapMs = firstNew <= 0 ? Number.NaN : byTime[firstNew]!.scoredAt - byTime[firstNew - 1]!.scoredAt;
  return {
    inputs,
    lost,
    duplicates,
    steadyP99Ms: quantile(steady, 0.99),
    swapP99Ms: quantile(swapLatencies, 0.99),
    swapMaxMs: swapLatencies.at(-1) ?? Number.NaN,
    swapWindowMaxMs: swapWindowMax,
    redeployGapMs,
    missingSwaps: SWAPS - swapLatencies.length,
  };
}

/**
 * Phase 4: the serving instance as in phase 1 (anomalies only), steady traffic at `rate` with every
 * SPIKE_EVERY-th record a spike. Per anomaly: its append time − its telemetry record's append time
 * (the log's own clocks: the issue's figure), `scoredAt` − the telemetry's send time (processing),
 * and the wall-clock time a consumer here first reads it − the send time (append to visible).
 */
async function measureE2e(ctx: Ctx, rate: number, seconds: number, tickMs: number, profileDir: string | undefined) {
  const topics = await topicsFor(ctx, 'e2e', false);
  await publish(ctx, topics, robustZScore, 1);
  const s = startServingProcess(ctx, topics, 'e2e', PROGRESS_MS, profileDir);
  await s.waitFor('ready');
  const anomalies = readAnomalies(ctx, topics.anomalies);
  const load = traffic(ctx, topics.telemetry, rate, SPIKE_EVERY, tickMs);
  await until(() => (s.progress?.records ?? 0) > 0, 30_000, 'first record scored');
  // Warm-up, not measured: the serving process's first seconds (compiling its hot code) leave a
  // backlog that takes a while to drain at half load.
  await new Promise((resolve) => setTimeout(resolve, E2E_WARMUP_MS));
  const from = Date.now();
  const cpuFrom = processCpuSeconds(s.child.pid);
  const gcFrom = s.progress!.gc;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
  const cpuTo = processCpuSeconds(s.child.pid);
  const gcTo = s.progress!.gc;
  const servingGc: GcCounts = {
    markCompacts: gcTo.markCompacts - gcFrom.markCompacts,
    scavenges: gcTo.scavenges - gcFrom.scavenges,
    pauseMs: Math.round(gcTo.pauseMs - gcFrom.pauseMs),
  };
  const servingCpuPercent = cpuFrom === null || cpuTo === null ? null : ((cpuTo - cpuFrom) / ((Date.now() - from) / 1_000)) * 100;
  const sent = await load.stop();
  await until(() => (s.progress?.records ?? 0) >= sent, 60_000, 'every record scored');
  const seen = await anomalies.stop();
  await s.stop();
  const measured = seen.filter((a) => a.ts >= from);
  const sorted = (xs: number[]): number[] => xs.sort((a, b) => a - b);
  const scored = sorted(measured.map((a) => a.scoredAt - a.ts));
  const visible = sorted(measured.map((a) => a.readAt - a.ts));
  const telemetryAppends = await appendTimes(ctx, topics.telemetry, new Set(load.spikes.values()));
  const appendToAppend: number[] = [];
  for (const a of measured) {
    const at = telemetryAppends.get(load.spikes.get(`${a.deviceId}#${a.seq}`) ?? -1);
    if (at !== undefined && a.appendedAt !== undefined) appendToAppend.push(a.appendedAt - at);
  }
  sorted(appendToAppend);
  // Anomalies on records that were not spikes (none expected) have no known telemetry offset.
  const appended = appendToAppend.length > 0;
  return {
    n: measured.length,
    appendN: appendToAppend.length,
    appendP50: appended ? quantile(appendToAppend, 0.5) : null,
    appendP99: appended ? quantile(appendToAppend, 0.99) : null,
    appendOver5MsShare: appended ? Math.round((appendToAppend.filter((ms) => ms > 5).length / appendToAppend.length) * 1e4) / 1e4 : null,
    p50: quantile(scored, 0.5),
    p99: quantile(scored, 0.99),
    visibleP50: quantile(visible, 0.5),
    visibleP99: quantile(visible, 0.99),
    servingCpuPercent,
    servingGc,
  };
}

/** The value of --serving-cpu: a CPU index below `cores`. */
function cpuIndex(value: string, cores: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n >= cores) throw new Error(`--serving-cpu must be a CPU index from 0 to ${cores - 1}, got '${value}'\n${USAGE}`);
  return n;
}

/** The append time of each record of `topic` (partition 0) at `offsets`, where the log keeps one. */
async function appendTimes(ctx: Ctx, topic: string, offsets: ReadonlySet<number>): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const last = Math.max(-1, ...offsets);
  const consumer = ctx.log.consumer();
  try {
    await consumer.assign([{ topic, partition: 0 }]);
    let position = 0;
    while (position <= last) {
      const records = await consumer.poll({ timeoutMs: 1_000 });
      if (records.length === 0) break;
      for (const r of records) if (offsets.has(r.offset) && r.appendedAt !== undefined) out.set(r.offset, r.appendedAt);
      position = records.at(-1)!.offset + 1;
    }
  } finally {
    await consumer.close();
  }
  return out;
}

/** Reads `topic` from its start until stopped; each anomaly with the wall-clock time it was read. */
function readAnomalies(ctx: Ctx, topic: string) {
  const consumer = ctx.log.consumer();
  const out: (ScoredRecord & { readonly readAt: number; readonly appendedAt: number | undefined })[] = [];
  let running = true;
  const done = (async () => {
    await consumer.assign([{ topic, partition: 0 }]);
    while (running) {
      const records = await consumer.poll({ timeoutMs: 50 });
      const readAt = Date.now();
      for (const raw of records) out.push({ ...anomalyCodec.decode(raw.value), readAt, appendedAt: raw.appendedAt });
    }
    await consumer.close();
  })();
  return {
    async stop() {
      await new Promise((resolve) => setTimeout(resolve, 200));
      running = false;
      await done;
      return out;
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runPipelineBench(process.argv.slice(2));
