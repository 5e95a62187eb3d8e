/**
 * `sluice models`: the model store and the models topic by hand.
 *
 *   list                  stored models and versions, and what the models topic publishes
 *   publish FILE          store a descriptor (JSON file), then publish it (--shadow: as a shadow)
 *   rollback NAME [--to]  publish an earlier stored version again, with `sluice.rollback: 1`
 *
 * Publishing follows the serving contract: the store first, then the topic, so an instance that
 * reads the descriptor can always load its payload.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ErrorCode, SluiceError } from '../errors.ts';
import type { Log } from '../log/index.ts';
import { ModelStore, type ModelDescriptor } from '../model/index.ts';
import { DEFAULT_MODELS_TOPIC } from '../model/index.ts';
import { ensureModelsTopic, latestPublished, publishDescriptor, type PublishedModel } from '../serving/models-topic.ts';
import { expectPositionals, intFlag, parseCommand, stringFlag, type FlagSpec, type ParsedCommand, UsageError } from './args.ts';
import type { Command } from './command.ts';
import { DATA_FLAGS, DATA_FLAGS_HELP, dataConfigFrom } from './data-flags.ts';
import { LOG_FLAGS, LOG_FLAGS_HELP, openCliLog } from './log-flags.ts';
import { out, table } from './output.ts';

const TOPIC_HELP = `  --models-topic NAME        the models topic (default ${DEFAULT_MODELS_TOPIC})`;
const common = (synopsis: string, body: string, flags = ''): string =>
  `Usage: sluice models ${synopsis}\n\n${body}\n\nFlags:\n${flags}${TOPIC_HELP}\n  -h, --help                 show this help\n\n${DATA_FLAGS_HELP}\n\n${LOG_FLAGS_HELP}`;

const USAGE = `Usage: sluice models <subcommand> [flags]

Subcommands:
  list                     stored models with their versions, and what the models topic publishes
  publish FILE [--shadow]  store a model descriptor (JSON) and publish it on the models topic
  rollback NAME [--to V]   publish an earlier stored version again; serving takes it over

${DATA_FLAGS_HELP}

${LOG_FLAGS_HELP}`;

const LIST_USAGE = common('list', 'Lists every stored model with its versions, and the version the models topic publishes\nfor it (live, rollback and shadow).');
const PUBLISH_USAGE = common(
  'publish FILE [--shadow]',
  'Validates the model descriptor in FILE (JSON), saves it in the model store, then appends it to\nthe models topic: serving instances load it and swap it in. With --shadow it runs beside the\nlive model of its name without emitting, and /models reports how well they agree; publishing\nthe same version without --shadow promotes it.',
  '  --shadow                   publish as a shadow candidate\n',
);
const ROLLBACK_USAGE = common(
  'rollback NAME [--to VERSION]',
  'Publishes an earlier stored version of model NAME again, marked as a rollback, so serving takes\nit although its version is lower. Default: the highest stored version below the published one.',
  '  --to VERSION               the version to go back to\n',
);

interface Subcommand {
  readonly usage: string;
  readonly flags: FlagSpec;
  readonly positionals: readonly string[];
  run(log: Log, store: ModelStore, topic: string, parsed: ParsedCommand): Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  list: { usage: LIST_USAGE, flags: {}, positionals: [], run: list },
  publish: { usage: PUBLISH_USAGE, flags: { shadow: { type: 'boolean' } }, positionals: ['FILE'], run: publish },
  rollback: { usage: ROLLBACK_USAGE, flags: { to: { type: 'string' } }, positionals: ['NAME'], run: rollback },
};

/** The `models` command group. */
export const modelsCommand: Command = {
  name: 'models',
  summary: 'list, publish and roll back models (store and models topic)',
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
    const parsed = parseCommand(rest, { ...LOG_FLAGS, ...DATA_FLAGS, 'models-topic': { type: 'string' }, ...sub.flags }, sub.usage);
    const { log: config, modelsDir } = dataConfigFrom(parsed, sub.usage);
    expectPositionals(parsed, sub.positionals, sub.usage);
    const topic = stringFlag(parsed, 'models-topic') ?? DEFAULT_MODELS_TOPIC;
    if (topic === '') throw new UsageError('--models-topic must not be empty', sub.usage);
    if (name === 'rollback') intFlag(parsed, 'to', sub.usage, { min: 1 });
    if (name === 'list' && config.backend === 'embedded' && !existsSync(config.dir ?? '')) {
      throw new SluiceError(ErrorCode.CONFIG_INVALID, `no embedded log in ${resolve(config.dir ?? '')}: the directory does not exist`, { details: { dir: config.dir } });
    }
    const log = await openCliLog(config);
    try {
      return await sub.run(log, new ModelStore({ dir: modelsDir }), topic, parsed);
    } finally {
      await log.close();
    }
  },
};

async function published(log: Log, topic: string): Promise<PublishedModel[]> {
  return (await log.admin.listTopics()).includes(topic) ? latestPublished(log, topic) : [];
}

async function list(log: Log, store: ModelStore, topic: string): Promise<number> {
  const stored = await store.list();
  const onTopic = await published(log, topic);
  const names = [...new Set([...stored.map((s) => s.name), ...onTopic.map((p) => p.name ?? p.key)])].sort();
  if (names.length === 0) {
    out(`no models in the store ${store.dir} nor on topic ${topic}`);
    return 0;
  }
  const rows = names.map((name) => {
    const versions = stored.find((s) => s.name === name)?.versions ?? [];
    const live = onTopic.find((p) => !p.shadow && p.name === name);
    const shadow = onTopic.find((p) => p.shadow && p.name === name);
    const show = (p: PublishedModel | undefined): string => (p === undefined ? '-' : `v${p.version ?? '?'}${p.rollback ? ' (rollback)' : ''}`);
    return [name, versions.length === 0 ? '-' : versions.join(','), show(live), show(shadow)];
  });
  for (const line of table(['MODEL', 'STORED VERSIONS', 'PUBLISHED', 'SHADOW'], rows)) out(line);
  return 0;
}

async function publish(log: Log, store: ModelStore, topic: string, parsed: ParsedCommand): Promise<number> {
  const file = parsed.positionals[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${file}: cannot read (${(error as Error).message})`, { cause: error, details: { path: file } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SluiceError(ErrorCode.MODEL_INVALID, `${file}: not JSON (${(error as Error).message})`, { cause: error, details: { path: file } });
  }
  const shadow = parsed.values.shadow === true;
  const stored = await store.save(json as ModelDescriptor, { baseDir: dirname(resolve(file)) });
  await ensureModelsTopic(log.admin, topic);
  const meta = await publishDescriptor(log, topic, stored, { shadow });
  out(`published ${stored.name} v${stored.version}${shadow ? ' as a shadow' : ''} (${stored.kind}, ${stored.features.metrics.length} feature${stored.features.metrics.length === 1 ? '' : 's'}) to ${topic} @${meta.offset}; stored in ${store.dir}`);
  return 0;
}

async function rollback(log: Log, store: ModelStore, topic: string, parsed: ParsedCommand): Promise<number> {
  const name = parsed.positionals[0]!;
  const to = intFlag(parsed, 'to', ROLLBACK_USAGE, { min: 1 });
  const versions = await store.versions(name);
  if (versions.length === 0) throw new SluiceError(ErrorCode.MODEL_NOT_FOUND, `no version of model '${name}' is in the store ${store.dir}`, { details: { name } });
  const current = (await published(log, topic)).find((p) => !p.shadow && p.name === name)?.version ?? null;
  let target = to;
  if (target === undefined) {
    if (current === null) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `model '${name}' is not published on ${topic}; say which version to publish with --to`, { details: { name } });
    target = versions.filter((v) => v < current).at(-1);
    if (target === undefined) throw new SluiceError(ErrorCode.MODEL_NOT_FOUND, `no stored version of '${name}' is below the published v${current} (stored: ${versions.join(', ')})`, { details: { name } });
  }
  if (target === current) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${topic} publishes '${name}' v${target} already`, { details: { name, version: target } });
  const descriptor = await store.get(name, target);
  const meta = await publishDescriptor(log, topic, descriptor, { rollback: true });
  out(`rolled back ${name}: ${current === null ? 'nothing published' : `v${current}`} → v${target} (published to ${topic} @${meta.offset} with sluice.rollback: 1)`);
  return 0;
}
