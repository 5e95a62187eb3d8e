/**
 * Where a command's data lives: `--data-dir DIR` names the data directory (the embedded log, unless
 * `--dir` names another, and the model store in `DIR/models`), `--models-dir DIR` the model store
 * alone. Used with the log connection flags by the commands that touch models (serve, models, train).
 */
import { join } from 'node:path';
import { DEFAULT_EMBEDDED_DIR, type LogConfig } from '../log/index.ts';
import { type FlagSpec, type ParsedCommand, UsageError, stringFlag } from './args.ts';
import { logConfigFrom } from './log-flags.ts';

/** parseArgs definitions of the data directory flags. */
export const DATA_FLAGS: FlagSpec = {
  'data-dir': { type: 'string' },
  'models-dir': { type: 'string' },
};

/** Help text of the data directory flags. */
export const DATA_FLAGS_HELP = `Data:
  --data-dir DIR             data directory: the embedded log (unless --dir) and the model store
                             in DIR/models (default ${DEFAULT_EMBEDDED_DIR})
  --models-dir DIR           the model store (default: DIR/models of the data directory)`;

/** The log config and the model store directory from the connection and data flags. */
export function dataConfigFrom(parsed: ParsedCommand, usage: string): { readonly log: LogConfig; readonly modelsDir: string } {
  const dataDir = stringFlag(parsed, 'data-dir');
  const modelsDir = stringFlag(parsed, 'models-dir');
  if (dataDir === '') throw new UsageError('--data-dir must not be empty', usage);
  if (modelsDir === '') throw new UsageError('--models-dir must not be empty', usage);
  if (dataDir !== undefined && stringFlag(parsed, 'dir') !== undefined) throw new UsageError('--dir and --data-dir name the same directory: give one', usage);
  let log = logConfigFrom(parsed, usage);
  if (log.backend === 'embedded' && dataDir !== undefined) log = { backend: 'embedded', dir: dataDir };
  const root = dataDir ?? (log.backend === 'embedded' ? (log.dir ?? DEFAULT_EMBEDDED_DIR) : DEFAULT_EMBEDDED_DIR);
  return { log, modelsDir: modelsDir ?? join(root, 'models') };
}
