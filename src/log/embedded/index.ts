/**
 * The embedded backend: a durable, partitioned log in one local directory, shared by every process
 * on this machine that opens the same directory. No server to run.
 */
import { resolve } from 'node:path';
import type { EmbeddedLogConfig } from '../config.ts';
import { DEFAULT_EMBEDDED_DIR } from '../config.ts';
import type { Admin, Consumer, ConsumerOptions, Log, Producer, ProducerOptions } from '../types.ts';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { assertOpen } from '../validate.ts';
import { EmbeddedAdmin } from './admin.ts';
import { EmbeddedConsumer } from './consumer.ts';
import { AppendSignal, type EmbeddedContext } from './context.ts';
import { openDatabase } from './database.ts';
import { GroupCoordinator } from './group-coordinator.ts';
import { PartitionLog } from './partition-log.ts';
import { SEGMENT_DEFAULTS } from './segments.ts';
import { EmbeddedProducer } from './producer.ts';
import { TopicCatalog } from './topics.ts';
import { Writer } from './writer.ts';

/** Defaults of the embedded backend's settings. */
export const EMBEDDED_DEFAULTS = {
  dir: DEFAULT_EMBEDDED_DIR,
  /** How long a writer waits for another process holding the write lock. */
  busyTimeoutMs: 10_000,
  /** How often retention and compaction run (on the housekeeping thread of each process that writes). */
  maintenanceIntervalMs: 1_000,
  /** Size at which a partition of a `delete`-policy topic starts a new segment file. */
  segmentBytes: SEGMENT_DEFAULTS.maxBytes,
} as const;

/** One signal per directory, so that every log of this process on it wakes the others' consumers. */
const signals = new Map<string, AppendSignal>();

/** Opens the embedded log in `config.dir` (default `./data`), creating it if needed. */
export function openEmbeddedLog(config: EmbeddedLogConfig = { backend: 'embedded' }): Promise<Log> {
  try {
    return Promise.resolve(new EmbeddedLog(config));
  } catch (error) {
    return Promise.reject(error);
  }
}

class EmbeddedLog implements Log {
  readonly backend = 'embedded';
  /** A durable write flushes the segment files its process wrote, then the one shared write-ahead log. */
  readonly orderedDurability = true;
  readonly fixedCostPerSend = true;
  readonly admin: Admin;
  readonly #ctx: EmbeddedContext;
  readonly #clients = new Set<{ close(): Promise<void> }>();
  #closed = false;

  constructor(config: EmbeddedLogConfig) {
    const dir = resolve(config.dir ?? EMBEDDED_DEFAULTS.dir);
    const segmentBytes = config.segmentBytes ?? EMBEDDED_DEFAULTS.segmentBytes;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
      throw new SluiceError(ErrorCode.CONFIG_INVALID, `/log/segmentBytes must be a positive integer, got ${String(config.segmentBytes)}`, {
        details: { segmentBytes: config.segmentBytes },
      });
    }
    const db = openDatabase(dir, EMBEDDED_DEFAULTS.busyTimeoutMs);
    // Appends and offset commits are the writer thread's (fsynced per acks). What this connection
    // writes — heartbeats, group membership, topic metadata — need not wait for an
    // fsync on the caller's thread: safe against a process crash, and made durable by the next
    // fsync of the shared write-ahead log.
    db.exec('PRAGMA synchronous = NORMAL');
    const clock = Date.now;
    const topics = new TopicCatalog(db, dir);
    const log = new PartitionLog(db, dir);
    let appended = signals.get(dir);
    if (appended === undefined) signals.set(dir, (appended = new AppendSignal(dir)));
    const writer = new Writer({
      dir,
      busyTimeoutMs: EMBEDDED_DEFAULTS.busyTimeoutMs,
      maintenanceIntervalMs: EMBEDDED_DEFAULTS.maintenanceIntervalMs,
      segmentBytes,
    });
    this.#ctx = { dir, db, topics, log, groups: new GroupCoordinator(db, clock), writer, clock, appended };
    this.admin = new EmbeddedAdmin(this.#ctx, () => this.#closed);
    appended.acquire();
  }

  producer(options: ProducerOptions = {}): Producer {
    assertOpen(this.#closed, 'log');
    const producer: EmbeddedProducer = new EmbeddedProducer(this.#ctx, options, () => this.#clients.delete(producer));
    this.#clients.add(producer);
    return producer;
  }

  consumer(options: ConsumerOptions = {}): Consumer {
    assertOpen(this.#closed, 'log');
    const consumer: EmbeddedConsumer = new EmbeddedConsumer(this.#ctx, options, () => this.#clients.delete(consumer));
    this.#clients.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const client of [...this.#clients]) await client.close();
    await this.#ctx.writer.close();
    this.#ctx.log.close();
    this.#ctx.db.close();
    this.#ctx.appended.release();
  }
}
