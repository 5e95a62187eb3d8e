/**
 * `sluice topics`: list, create, describe, delete and tail topics of the log.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, SluiceError } from '../errors.ts';
import { DEFAULT_EMBEDDED_DIR, type CleanupPolicy, type CreateTopicOptions, type Log, type TopicDescription } from '../log/index.ts';
import { choiceFlag, expectPositionals, intFlag, parseCommand, type FlagSpec, type ParsedCommand, UsageError } from './args.ts';
import type { Command } from './command.ts';
import { LOG_FLAGS, LOG_FLAGS_HELP, describeLog, logConfigFrom, openCliLog } from './log-flags.ts';
import { count, duration, out, table } from './output.ts';
import { TAIL_USAGE, tailOptions, tailTopic } from './tail.ts';

const USAGE = `Usage: sluice topics <subcommand> [flags]

Subcommands:
  list                      topics with their partitions, records and cleanup policy
  create NAME [flags]       create a topic (see: sluice topics create --help)
  describe NAME             settings and per-partition offsets of a topic
  delete NAME               delete a topic and all its records
  tail NAME [flags]         print records as they arrive (see: sluice topics tail --help)

${LOG_FLAGS_HELP}`;

const CREATE_USAGE = `Usage: sluice topics create NAME [flags]

Flags:
  --partitions N            number of partitions (default 1)
  --retention-ms N          delete records older than N ms (default: keep forever)
  --retention-bytes N       keep at most N bytes per partition (default: unlimited)
  --cleanup delete|compact  delete old records, or keep the latest record per key (default delete)
  -h, --help                show this help

${LOG_FLAGS_HELP}`;

const simpleUsage = (sub: string, what: string): string => `Usage: sluice topics ${sub}${what}\n\n${LOG_FLAGS_HELP}`;
const LIST_USAGE = simpleUsage('list', '\n\nLists the topics with their partitions, stored records and cleanup policy.');
const DESCRIBE_USAGE = simpleUsage('describe NAME', '\n\nShows the settings of a topic and the offsets of each partition.');
const DELETE_USAGE = simpleUsage('delete NAME', '\n\nDeletes a topic and all its records.');

interface Subcommand {
  readonly usage: string;
  readonly flags: FlagSpec;
  run(log: Log, parsed: ParsedCommand): Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  list: { usage: LIST_USAGE, flags: {}, run: (log, parsed) => list(log, parsed) },
  create: {
    usage: CREATE_USAGE,
    flags: { partitions: { type: 'string' }, 'retention-ms': { type: 'string' }, 'retention-bytes': { type: 'string' }, cleanup: { type: 'string' } },
    run: (log, parsed) => create(log, parsed),
  },
  describe: { usage: DESCRIBE_USAGE, flags: {}, run: (log, parsed) => describe(log, parsed) },
  delete: { usage: DELETE_USAGE, flags: {}, run: (log, parsed) => remove(log, parsed) },
  tail: {
    usage: TAIL_USAGE,
    flags: { from: { type: 'string' }, group: { type: 'string' }, codec: { type: 'string' }, max: { type: 'string' } },
    run: (log, parsed) => tailTopic(log, parsed),
  },
};

/** The `topics` command group. */
export const topicsCommand: Command = {
  name: 'topics',
  summary: 'list, create, describe, delete and tail topics',
  usage: USAGE,
  async run(args) {
    const [name, ...rest] = args;
    if (name === undefined) throw new UsageError('missing subcommand', USAGE);
    if (name === '--help' || name === '-h' || name === 'help') {
      out(USAGE);
      return 0;
    }
    const sub = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (sub === undefined) {
      throw new UsageError(name.startsWith('-') ? `unknown flag ${name} (flags go after the subcommand)` : `unknown subcommand ${JSON.stringify(name)}`, USAGE);
    }
    const parsed = parseCommand(rest, { ...LOG_FLAGS, ...sub.flags }, sub.usage);
    // Check every argument before connecting, so that a typo never waits on a broker.
    const config = logConfigFrom(parsed, sub.usage);
    if (name === 'list') expectPositionals(parsed, [], sub.usage);
    else expectPositionals(parsed, ['NAME'], sub.usage);
    if (name === 'create') createOptions(parsed);
    if (name === 'tail') tailOptions(parsed);
    // Only `create` may start a new embedded log: a typo in --dir must not leave an empty one behind.
    if (name !== 'create' && config.backend === 'embedded') assertLogDir(config.dir ?? DEFAULT_EMBEDDED_DIR);
    const log = await openCliLog(config);
    try {
      return await sub.run(log, parsed);
    } finally {
      await log.close();
    }
  },
};

function assertLogDir(dir: string): void {
  if (existsSync(dir)) return;
  throw new SluiceError(ErrorCode.CONFIG_INVALID, `no embedded log in ${resolve(dir)}: the directory does not exist (sluice start or sluice topics create makes one)`, {
    details: { dir },
  });
}

async function list(log: Log, parsed: ParsedCommand): Promise<number> {
  const names = await log.admin.listTopics();
  if (names.length === 0) {
    out(`no topics in ${describeLog(logConfigFrom(parsed, LIST_USAGE))}`);
    return 0;
  }
  const rows: string[][] = [];
  for (const name of names) {
    const d = await log.admin.describeTopic(name);
    rows.push([name, String(d.config.partitions), count(storedRecords(d)), d.config.cleanupPolicy, retention(d)]);
  }
  for (const line of table(['TOPIC', 'PARTITIONS', 'RECORDS', 'CLEANUP', 'RETENTION'], rows, [false, true, true])) out(line);
  return 0;
}

function createOptions(parsed: ParsedCommand): CreateTopicOptions {
  const partitions = intFlag(parsed, 'partitions', CREATE_USAGE, { min: 1, max: 10_000 });
  const retentionMs = intFlag(parsed, 'retention-ms', CREATE_USAGE, { min: 1 });
  const retentionBytes = intFlag(parsed, 'retention-bytes', CREATE_USAGE, { min: 1 });
  const cleanupPolicy: CleanupPolicy | undefined = choiceFlag(parsed, 'cleanup', ['delete', 'compact'], CREATE_USAGE);
  return {
    ...(partitions === undefined ? {} : { partitions }),
    ...(retentionMs === undefined ? {} : { retentionMs }),
    ...(retentionBytes === undefined ? {} : { retentionBytes }),
    ...(cleanupPolicy === undefined ? {} : { cleanupPolicy }),
  };
}

async function create(log: Log, parsed: ParsedCommand): Promise<number> {
  const name = parsed.positionals[0]!;
  await log.admin.createTopic(name, createOptions(parsed));
  const d = await log.admin.describeTopic(name);
  out(`created topic ${name}: ${d.config.partitions} partition${d.config.partitions === 1 ? '' : 's'}, cleanup ${d.config.cleanupPolicy}, retention ${retention(d)}`);
  return 0;
}

async function describe(log: Log, parsed: ParsedCommand): Promise<number> {
  const d = await log.admin.describeTopic(parsed.positionals[0]!);
  const c = d.config;
  out(`topic ${d.name}`);
  out(`  partitions  ${c.partitions}`);
  out(`  cleanup     ${c.cleanupPolicy}`);
  out(`  retention   ${retention(d)}`);
  if (c.segmentMs !== null) out(`  segment     ${duration(c.segmentMs)}`);
  out(`  records     ${count(storedRecords(d))}`);
  out();
  const rows = d.partitions.map((p) => [String(p.partition), String(p.startOffset), String(p.endOffset), count(p.endOffset - p.startOffset)]);
  for (const line of table(['PARTITION', 'START OFFSET', 'END OFFSET', 'RECORDS'], rows, [true, true, true, true])) out(`  ${line}`);
  return 0;
}

async function remove(log: Log, parsed: ParsedCommand): Promise<number> {
  const name = parsed.positionals[0]!;
  await log.admin.deleteTopic(name);
  out(`deleted topic ${name}`);
  return 0;
}

/** Records between the start and end offsets of every partition (an upper bound on compacted topics). */
function storedRecords(d: TopicDescription): number {
  return d.partitions.reduce((sum, p) => sum + (p.endOffset - p.startOffset), 0);
}

function retention(d: TopicDescription): string {
  const { retentionMs, retentionBytes } = d.config;
  const parts = [retentionMs === null ? null : duration(retentionMs), retentionBytes === null ? null : `${count(retentionBytes)} bytes/partition`];
  const set = parts.filter((p) => p !== null);
  return set.length === 0 ? 'forever' : set.join(', ');
}
