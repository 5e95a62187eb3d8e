/**
 * The public face of the log layer: the API types, `openLog` to connect to a backend, the
 * partitioner and the codecs.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import type { LogConfig } from './config.ts';
import { instrument } from './instrument.ts';
import type { Log } from './types.ts';

export type * from './types.ts';
export type * from './config.ts';
export { Acks, CleanupPolicy, IsolationLevel } from './types.ts';
export { DEFAULT_EMBEDDED_DIR, DEFAULT_TEST_BROKER } from './config.ts';
export { murmur2, partitionForKey, DefaultPartitioner } from './partitioner.ts';
export { LOG_CHANNELS } from './instrument.ts';
export { ensureTopic } from './ensure-topic.ts';
export * from './codecs/index.ts';

/**
 * Connects to the backend named by `config` (default: the embedded log in `./data`). Its sends,
 * polls and commits are published on the {@link LOG_CHANNELS} diagnostics channels.
 */
export async function openLog(config: LogConfig = { backend: 'embedded' }): Promise<Log> {
  switch (config.backend) {
    case 'embedded': {
      const { openEmbeddedLog } = await import('./embedded/index.ts');
      return instrument(await openEmbeddedLog(config));
    }
    case 'kafka': {
      const { openKafkaLog } = await import('./kafka/index.ts');
      return instrument(await openKafkaLog(config));
    }
    default:
      throw new SluiceError(
        ErrorCode.CONFIG_INVALID,
        `unknown log backend ${JSON.stringify((config as { backend?: unknown }).backend)}: use 'embedded' or 'kafka'`,
      );
  }
}
