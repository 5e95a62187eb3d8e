/**
 * The caller's side of the writer thread (writer-thread.ts): sends encoded appends to it and
 * resolves with their base offsets. The thread, and the housekeeping thread beside it (checkpoints,
 * retention and compaction), start on the first append or offset commit; they keep the process
 * alive only while appends are in flight.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, SluiceError } from '../../errors.ts';
import { type AppendReply, type AppendRequest, transferList } from './append-request.ts';
import { APPEND_SIGNAL_FILE } from './context.ts';
import { DATABASE_FILE } from './database.ts';
import type { WriterThreadData } from './writer-thread.ts';

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Submits appends to the writer thread of one log directory. */
export class Writer {
  readonly #data: Omit<WriterThreadData, 'signalFd' | 'walFd' | 'written'>;
  readonly #pending = new Map<number, { resolve: (bases: number[]) => void; reject: (error: unknown) => void }>();
  #worker: Worker | null = null;
  #housekeeper: Worker | null = null;
  /** The append signal file and the WAL, open while the writer thread runs (it writes a byte to the one after each commit, and flushes the other). */
  #signalFd: number | null = null;
  #walFd: number | null = null;
  #nextId = 1;
  #failure: SluiceError | null = null;
  #drained: Array<() => void> = [];

  constructor(data: Omit<WriterThreadData, 'signalFd' | 'walFd' | 'written'>) {
    this.#data = data;
  }

  /** Appends (in submission order) and resolves with each append's base offset. */
  submit(request: Omit<AppendRequest, 'id'>): Promise<number[]> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id }, transferList(request.appends));
    });
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker;
    // The log's own connection made the WAL when it opened the database, and keeps it while open.
    this.#walFd = openSync(join(this.#data.dir, `${DATABASE_FILE}-wal`), 'r');
    this.#signalFd = openSignal(this.#data.dir);
    const written = new SharedArrayBuffer(4);
    const workerData: WriterThreadData = { ...this.#data, signalFd: this.#signalFd, walFd: this.#walFd, written };
    const worker = new Worker(new URL(`./writer-thread${EXTENSION}`, import.meta.url), { workerData });
    worker.unref();
    const housekeeper = new Worker(new URL(`./housekeeping-thread${EXTENSION}`, import.meta.url), { workerData: { ...this.#data, written } });
    housekeeper.unref();
    // Its failure (say, the directory removed under an open log) fails the log's writes, with the
    // reason, instead of escaping as an uncaught error of the process.
    housekeeper.on('error', (error) => this.#fail(error, 'housekeeping thread'));
    this.#housekeeper = housekeeper;
    worker.on('message', (reply: AppendReply) => this.#settle(reply));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#fail(new Error(`writer thread exited with code ${code}`));
    });
    this.#worker = worker;
    return worker;
  }

  #settle(reply: AppendReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) {
      this.#worker?.unref();
      for (const done of this.#drained.splice(0)) done();
    }
    if ('bases' in reply) pending.resolve(reply.bases);
    else {
      const { code, message, retriable, details } = reply.error;
      pending.reject(new SluiceError(code as ErrorCode, message, { retriable, details }));
    }
  }

  #fail(cause: Error, thread = 'writer'): void {
    this.#failure ??= new SluiceError('SLUICE_LOG_BACKEND', `embedded log ${thread} stopped: ${cause.message}`, { cause });
    for (const p of this.#pending.values()) p.reject(this.#failure);
    this.#pending.clear();
    for (const done of this.#drained.splice(0)) done();
  }

  /** Waits for appends in flight, then stops the threads. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
    this.#worker = null;
    await Promise.all([worker.terminate(), this.#housekeeper?.terminate()]);
    this.#housekeeper = null;
    for (const fd of [this.#signalFd, this.#walFd]) if (fd !== null) closeSync(fd);
    this.#signalFd = null;
    this.#walFd = null;
  }
}

/** Opens (creating, never truncating) the append signal file of `dir`; null where it can't be. */
function openSignal(dir: string): number | null {
  try {
    return openSync(join(dir, APPEND_SIGNAL_FILE), constants.O_WRONLY | constants.O_CREAT);
  } catch {
    return null;
  }
}
