/**
 * `sluice topics tail NAME`: prints records as they arrive, one per line (partition, offset,
 * timestamp, key, decoded value), until Ctrl-C or `--max`. Without `--group` it reads every
 * partition by itself (committing nothing); with `--group` it joins that consumer group and commits.
 * Status lines go to stderr so that stdout holds only records.
 */
import { ErrorCode, isSluiceError } from '../errors.ts';
import type { Consumer, Log } from '../log/index.ts';
import { choiceFlag, intFlag, stringFlag, UsageError, type ParsedCommand } from './args.ts';
import { LOG_FLAGS_HELP } from './log-flags.ts';
import { dim, err, out } from './output.ts';
import { TAIL_CODECS, formatKey, formatValue } from './record-format.ts';
import { onStop } from './stop.ts';

/** Help of `topics tail`. */
export const TAIL_USAGE = `Usage: sluice topics tail NAME [flags]

Prints the records of a topic as they arrive, one line each:
  p<partition> @<offset> <timestamp> <key> <value>
until Ctrl-C or --max records. Status messages go to stderr.

Flags:
  --from earliest|latest    where to start (default latest; with --group: where the group has no
                            committed offset)
  --group ID                read as a member of this consumer group and commit what was printed
  --codec auto|json|telemetry|string|hex
                            how to show values (default auto: telemetry, JSON or text, else hex)
  --max N                   stop after N records
  -h, --help                show this help

${LOG_FLAGS_HELP}`;

/** The flags of `topics tail`, checked (a usage error names the bad one). */
export function tailOptions(parsed: ParsedCommand) {
  const from = choiceFlag(parsed, 'from', ['earliest', 'latest'], TAIL_USAGE) ?? 'latest';
  const codec = choiceFlag(parsed, 'codec', TAIL_CODECS, TAIL_USAGE) ?? 'auto';
  const max = intFlag(parsed, 'max', TAIL_USAGE, { min: 1 });
  const group = stringFlag(parsed, 'group');
  if (group === '') throw new UsageError('--group must not be empty', TAIL_USAGE);
  return { from, codec, max, group };
}

/** Runs `topics tail` on an open log. */
export async function tailTopic(log: Log, parsed: ParsedCommand): Promise<number> {
  const topic = parsed.positionals[0]!;
  const { from, codec, max, group } = tailOptions(parsed);

  const description = await log.admin.describeTopic(topic);
  const stop = onStop();
  const consumer = log.consumer({ autoOffsetReset: from, ...(group === undefined ? {} : { groupId: group }) });
  let printed = 0;
  try {
    await start(consumer, topic, description.config.partitions, from, group);
    const how = group === undefined ? `from ${from}` : `in group ${group}`;
    const limit = max === undefined ? 'Ctrl-C to stop' : `stops after ${max} records`;
    err(dim(`tailing ${topic} (${description.config.partitions} partitions) ${how} · ${limit}`));
    while (!stop.signal.aborted && (max === undefined || printed < max)) {
      let batch = await consumer.poll({ timeoutMs: 250 });
      if (max !== undefined && batch.length > max - printed) batch = batch.slice(0, max - printed);
      for (const r of batch) {
        out(`p${r.partition} @${r.offset} ${new Date(r.timestamp).toISOString()} ${formatKey(r.key)} ${formatValue(r.value, codec)}`);
      }
      printed += batch.length;
      if (group !== undefined && batch.length > 0) await commitPrinted(consumer, batch);
    }
    err(dim(`${printed} record${printed === 1 ? '' : 's'} printed`));
    return 0;
  } finally {
    stop.dispose();
    await consumer.close();
  }
}

async function start(consumer: Consumer, topic: string, partitions: number, from: 'earliest' | 'latest', group: string | undefined): Promise<void> {
  if (group !== undefined) {
    await consumer.subscribe([topic]);
    return;
  }
  const all = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
  await consumer.assign(all);
  for (const tp of all) await consumer.seek(tp, from);
}

/** Commits the offset after the last printed record of each partition (not past a --max cut). */
async function commitPrinted(consumer: Consumer, batch: readonly { partition: number; offset: number; topic: string }[]): Promise<void> {
  const next = new Map<number, { topic: string; partition: number; offset: number }>();
  for (const r of batch) next.set(r.partition, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  try {
    await consumer.commit([...next.values()]);
  } catch (error) {
    // Partitions taken away by a rebalance since the poll: their new owner reads them again.
    if (!isSluiceError(error, ErrorCode.LOG_NOT_ASSIGNED) && !isSluiceError(error, ErrorCode.LOG_REBALANCE_IN_PROGRESS)) throw error;
  }
}
