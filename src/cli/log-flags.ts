/**
 * The log connection flags every command that touches the log accepts (`--backend`, `--dir`,
 * `--brokers`), turning them into a {@link LogConfig}, and `openCliLog`, which opens the log with
 * errors a person can act on.
 */
import { resolve } from 'node:path';
import { ErrorCode, SluiceError } from '../errors.ts';
import { DEFAULT_EMBEDDED_DIR, DEFAULT_TEST_BROKER, openLog, type Log, type LogConfig } from '../log/index.ts';
import { type FlagSpec, type ParsedCommand, UsageError, choiceFlag, stringFlag } from './args.ts';

/** parseArgs definitions of the log connection flags. */
export const LOG_FLAGS: FlagSpec = {
  backend: { type: 'string' },
  dir: { type: 'string' },
  brokers: { type: 'string' },
};

/** Names of the log flags that take a value (main.ts lets them come before the command). */
export const LOG_FLAG_NAMES: readonly string[] = Object.keys(LOG_FLAGS);

/** Help text of the log connection flags, appended to every log command's usage. */
export const LOG_FLAGS_HELP = `Log connection:
  --backend embedded|kafka   which log to use (default embedded)
  --dir DIR                  embedded log directory (default ${DEFAULT_EMBEDDED_DIR})
  --brokers HOST:PORT,...    Kafka bootstrap brokers (default ${DEFAULT_TEST_BROKER}; implies --backend kafka)`;

/** Builds the log config from the connection flags; conflicting flags are usage errors. */
export function logConfigFrom(parsed: ParsedCommand, usage: string): LogConfig {
  const dir = stringFlag(parsed, 'dir');
  const brokers = stringFlag(parsed, 'brokers');
  const chosen = choiceFlag(parsed, 'backend', ['embedded', 'kafka'], usage);
  if (chosen === undefined && dir !== undefined && brokers !== undefined) {
    throw new UsageError('--dir (embedded backend) and --brokers (kafka backend) cannot be used together', usage);
  }
  const backend = chosen ?? (brokers === undefined ? 'embedded' : 'kafka');
  if (backend === 'embedded') {
    if (brokers !== undefined) throw new UsageError('--brokers applies to --backend kafka, not embedded', usage);
    if (dir === '') throw new UsageError('--dir must not be empty', usage);
    return { backend, dir: dir ?? DEFAULT_EMBEDDED_DIR };
  }
  if (dir !== undefined) throw new UsageError('--dir applies to the embedded backend, not kafka', usage);
  const list = (brokers ?? DEFAULT_TEST_BROKER).split(',').map((b) => b.trim()).filter((b) => b !== '');
  for (const b of list) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(b)) {
      throw new UsageError(`--brokers: ${JSON.stringify(b)} is not host:port`, usage);
    }
  }
  if (list.length === 0) throw new UsageError('--brokers needs at least one host:port', usage);
  return { backend, brokers: list };
}

/** Where the log lives, for messages: `the embedded log in DIR` or `Kafka at BROKERS`. */
export function describeLog(config: LogConfig): string {
  return config.backend === 'embedded'
    ? `the embedded log in ${resolve(config.dir ?? DEFAULT_EMBEDDED_DIR)}`
    : `Kafka at ${config.brokers.join(',')}`;
}

/** Opens the log; a backend that cannot be loaded becomes a LOG_BACKEND error saying so. */
export async function openCliLog(config: LogConfig): Promise<Log> {
  try {
    return await openLog(config);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new SluiceError(ErrorCode.LOG_BACKEND, `the ${config.backend} backend cannot be loaded: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}
