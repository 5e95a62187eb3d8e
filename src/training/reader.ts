/**
 * Reading a range of the telemetry topic into bounded per-device history.
 *
 * The consumer is assigned partitions by hand (no consumer group), so a training run never joins,
 * rebalances or commits in the groups serving uses. Partitions are read one after another:
 * - by offset, [from, to) clamped to what the partition holds;
 * - by time, from the first record with timestamp ≥ from (`seek({ timestamp })`) up to, not
 *   including, the first record with timestamp ≥ to (or the end), keeping only records whose
 *   timestamp lies in [from, to). As with Kafka's offsets-for-times, a late record appended after
 *   the first record at or past `to` is not read.
 * The end of each partition is fixed when the run starts: records appended while it reads belong
 * to the next run. The read polls small batches and yields to the event loop after each, so that a
 * serving instance in the same process keeps running while a run reads. Records that do not decode as telemetry or break its contract are counted and
 * skipped, as serving sends them to the dead-letter topic.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ErrorCode, SluiceError } from '../errors.ts';
import { telemetryCodec, telemetryValidator, type Consumer, type Log, type PartitionInfo, type TopicPartition } from '../log/index.ts';
import { throwIfAborted } from './abort.ts';
import { describeRange, offsetFor, type ResolvedRange } from './range.ts';
import { SeriesSampler, type SamplingLimits, type SamplingStats, type SeriesColumns } from './sampler.ts';

/** Records per poll: small batches keep each step of the read short for the event loop. */
const POLL_RECORDS = 1_000;

/** Options of {@link readTelemetryRange}. */
export interface ReadRangeOptions {
  readonly topic: string;
  readonly range: ResolvedRange;
  readonly classTag: string;
  readonly sampling: SamplingLimits;
  readonly pollTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Called after every poll with the totals so far. */
  readonly onProgress?: ((progress: ReadProgress) => void) | undefined;
}

/** Totals while reading. */
export interface ReadProgress {
  readonly records: number;
  readonly partitionsDone: number;
  readonly partitions: number;
}

/** What was read of one partition. */
export interface PartitionRead {
  readonly partition: number;
  /** First offset read. */
  readonly fromOffset: number;
  /** End of the read (exclusive). */
  readonly toOffset: number;
  /** Records in range read from it. */
  readonly records: number;
  /** True when the partition stopped making progress before `toOffset` (see stallTimeoutMs). */
  readonly stalled: boolean;
}

/** What {@link readTelemetryRange} returns. */
export interface RangeRead {
  readonly series: SeriesColumns[];
  /** Valid telemetry records in range. */
  readonly records: number;
  /** Records in range that were not valid telemetry (skipped). */
  readonly invalid: number;
  readonly partitions: readonly PartitionRead[];
  readonly sampling: SamplingStats;
}

/** Reads `options.range` of the topic (see the file comment). LOG_UNKNOWN_TOPIC when it does not exist. */
export async function readTelemetryRange(log: Log, options: ReadRangeOptions): Promise<RangeRead> {
  const description = await log.admin.describeTopic(options.topic);
  checkPartitionsExist(options, description.partitions.length);
  const sampler = new SeriesSampler(options.sampling);
  const validate = telemetryValidator();
  const consumer = log.consumer({ autoOffsetReset: 'earliest' });
  const partitions: PartitionRead[] = [];
  let records = 0;
  let invalid = 0;
  try {
    for (const info of description.partitions) {
      throwIfAborted(options.signal);
      const tp = { topic: options.topic, partition: info.partition };
      await consumer.assign([tp]);
      const [from, to] = await bounds(consumer, tp, info, options.range);
      let read = 0;
      let stalled = false;
      if (from < to) {
        await consumer.seek(tp, { offset: from });
        let position = from;
        let lastProgress = performance.now();
        while (position < to) {
          throwIfAborted(options.signal);
          const batch = await consumer.poll({ timeoutMs: options.pollTimeoutMs, maxRecords: POLL_RECORDS });
          for (const r of batch) {
            if (r.offset < from || r.offset >= to || !inTimeRange(r.timestamp, options.range)) continue;
            let value;
            try {
              value = telemetryCodec.decode(r.value);
              validate(value);
            } catch {
              invalid++;
              continue;
            }
            sampler.add(value, options.classTag);
            read++;
            records++;
          }
          const next = await consumer.position(tp);
          if (next > position) {
            position = next;
            lastProgress = performance.now();
          } else if (performance.now() - lastProgress > options.stallTimeoutMs) {
            stalled = true;
            break;
          }
          options.onProgress?.({ records, partitionsDone: partitions.length, partitions: description.partitions.length });
          // The embedded backend answers polls without an I/O turn: let timers and sockets run.
          await yieldToLoop();
        }
      }
      partitions.push({ partition: info.partition, fromOffset: from, toOffset: Math.max(from, to), records: read, stalled });
    }
  } finally {
    await consumer.close();
  }
  options.onProgress?.({ records, partitionsDone: partitions.length, partitions: description.partitions.length });
  return { series: sampler.series(), records, invalid, partitions, sampling: sampler.stats() };
}

/** [from, to) offsets of one partition for the range. */
async function bounds(consumer: Consumer, tp: TopicPartition, info: PartitionInfo, range: ResolvedRange): Promise<[number, number]> {
  const clamp = (o: number): number => Math.min(Math.max(o, info.startOffset), info.endOffset);
  if (range.by === 'offset') {
    return [clamp(offsetFor(range.from, info.partition) ?? info.startOffset), clamp(offsetFor(range.to, info.partition) ?? info.endOffset)];
  }
  const at = async (timestamp: number | undefined, none: number): Promise<number> => {
    if (timestamp === undefined) return none;
    await consumer.seek(tp, { timestamp });
    return clamp(await consumer.position(tp));
  };
  return [await at(range.from, info.startOffset), await at(range.to, info.endOffset)];
}

function inTimeRange(timestamp: number, range: ResolvedRange): boolean {
  if (range.by !== 'time') return true;
  return (range.from === undefined || timestamp >= range.from) && (range.to === undefined || timestamp < range.to);
}

function checkPartitionsExist(options: ReadRangeOptions, count: number): void {
  const range = options.range;
  if (range.by !== 'offset') return;
  for (const bound of [range.from, range.to]) {
    if (bound === undefined || typeof bound === 'number') continue;
    for (const p of Object.keys(bound)) {
      if (Number(p) >= count) {
        throw new SluiceError(
          ErrorCode.TRAINING_INVALID_RANGE,
          `range ${describeRange(range)}: topic '${options.topic}' has no partition ${p} (it has ${count})`,
          { details: { topic: options.topic, partition: Number(p) } },
        );
      }
    }
  }
}
