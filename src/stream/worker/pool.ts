/**
 * A pool of worker threads that run one exported function of a module, for CPU-heavy steps of a
 * topology: pair it with `mapAsync` (which keeps input order, bounds the calls in flight per task
 * and routes failures through the error policy), e.g.
 *
 *   const pool = await WorkerPool.start<Reading, Features>({ module: new URL('./features.ts', import.meta.url), export: 'features' });
 *   stream.mapAsync((r) => pool.call(r.value), { concurrency: 256 })
 *
 * Calls made in the same tick are sent to the threads in batches (at most `maxBatch` per message),
 * spread over the threads by the calls each has outstanding. Inputs and results cross the thread
 * boundary by structured cloning. An error thrown by the function rejects its own call (with the
 * original name, message and stack; a SluiceError comes back as a SluiceError with its code). A thread that dies fails its outstanding calls with
 * SLUICE_STREAM_WORKER_FAILED (retriable) and is replaced; a module that cannot be loaded fails
 * `start()` (and, in a replacement thread, every later call). Threads keep the process alive only
 * while calls are outstanding.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { BatchRequest, SerializedError, WorkerReply, WorkerStart } from './protocol.ts';

/** Options of {@link WorkerPool.start}. */
export interface WorkerPoolOptions {
  /** The module that exports the function: a `file:` URL or an absolute path. */
  readonly module: string | URL;
  /** Name of the exported function. Default `default`. */
  readonly export?: string;
  /** Worker threads. Default: the machine's parallelism less one, at least 1. */
  readonly threads?: number;
  /** Most calls sent to a thread in one message. Default 64. */
  readonly maxBatch?: number;
}

/** Defaults of {@link WorkerPoolOptions}. */
export const WORKER_POOL_DEFAULTS = {
  export: 'default',
  threads: Math.max(1, availableParallelism() - 1),
  maxBatch: 64,
} as const;

/** Counters of a {@link WorkerPool}. */
export interface WorkerPoolStats {
  readonly threads: number;
  /** Calls made and not yet answered. */
  readonly outstanding: number;
  /** Calls answered with a result. */
  readonly completed: number;
  /** Calls answered with an error (thrown by the function, or a thread that died). */
  readonly failed: number;
  /** Threads replaced after dying. */
  readonly restarts: number;
}

interface Call {
  readonly input: unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly batches: Map<number, readonly Call[]>;
  outstanding: number;
}

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const THREAD_URL = new URL(`./thread${EXTENSION}`, import.meta.url);

function rebuildError(e: SerializedError): Error {
  const error = e.code === undefined ? new Error(e.message) : new SluiceError(e.code as ErrorCode, e.message, { retriable: e.retriable === true });
  error.name = e.name;
  if (e.stack !== undefined) error.stack = e.stack;
  return error;
}

function workerFailed(message: string, cause?: unknown): SluiceError {
  return new SluiceError(ErrorCode.STREAM_WORKER_FAILED, message, { cause, retriable: true });
}

function resolveOptions(options: WorkerPoolOptions): { start: WorkerStart; threads: number; maxBatch: number } {
  const { module } = options;
  let url: string;
  if (module instanceof URL) url = module.href;
  else if (typeof module === 'string' && module.startsWith('file:')) url = module;
  else if (typeof module === 'string' && isAbsolute(module)) url = pathToFileURL(module).href;
  else throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `WorkerPool: module must be a file: URL or an absolute path, got ${JSON.stringify(module)}`, { details: { path: 'module' } });
  const exportName = options.export ?? WORKER_POOL_DEFAULTS.export;
  if (typeof exportName !== 'string' || exportName === '') {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'WorkerPool: export must be a non-empty string', { details: { path: 'export' } });
  }
  const threads = options.threads ?? WORKER_POOL_DEFAULTS.threads;
  const maxBatch = options.maxBatch ?? WORKER_POOL_DEFAULTS.maxBatch;
  for (const [path, value, max] of [['threads', threads, 256], ['maxBatch', maxBatch, 1_000_000]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `WorkerPool: ${path} must be an integer in [1, ${max}], got ${String(value)}`, { details: { path } });
    }
  }
  return { start: { module: url, exportName }, threads, maxBatch };
}

/** A pool of threads running one function; see the file comment. */
export class WorkerPool<I, O> {
  readonly #start: WorkerStart;
  readonly #maxBatch: number;
  readonly #threads: Thread[] = [];
  #queue: Call[] = [];
  #dispatchScheduled = false;
  #nextBatch = 0;
  #outstanding = 0;
  #completed = 0;
  #failed = 0;
  #restarts = 0;
  #broken: SluiceError | null = null;
  #closed = false;

  private constructor(start: WorkerStart, maxBatch: number) {
    this.#start = start;
    this.#maxBatch = maxBatch;
  }

  /** Starts the threads and waits until each has loaded the module. */
  static async start<I, O>(options: WorkerPoolOptions): Promise<WorkerPool<I, O>> {
    const { start, threads, maxBatch } = resolveOptions(options);
    const pool = new WorkerPool<I, O>(start, maxBatch);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) ready.push(pool.#spawn());
    try {
      await Promise.all(ready);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Runs the function on `input` in a thread. */
  call(input: I): Promise<O> {
    if (this.#closed) return Promise.reject(new SluiceError(ErrorCode.STREAM_CLOSED, 'WorkerPool is closed'));
    if (this.#broken !== null) return Promise.reject(this.#broken);
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve: resolve as (value: unknown) => void, reject });
      this.#outstanding++;
      if (this.#outstanding === 1) for (const t of this.#threads) t.worker.ref();
      if (!this.#dispatchScheduled) {
        this.#dispatchScheduled = true;
        queueMicrotask(() => this.#dispatch());
      }
    });
  }

  /** Current counters. */
  stats(): WorkerPoolStats {
    return { threads: this.#threads.length, outstanding: this.#outstanding, completed: this.#completed, failed: this.#failed, restarts: this.#restarts };
  }

  /** Stops the threads; outstanding calls fail with SLUICE_STREAM_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new SluiceError(ErrorCode.STREAM_CLOSED, 'WorkerPool closed with the call outstanding');
    for (const call of this.#queue) this.#settle(call, closed, false);
    this.#queue = [];
    const threads = this.#threads.splice(0);
    for (const t of threads) this.#failThread(t, closed);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  #spawn(): Promise<void> {
    const worker = new Worker(THREAD_URL, { workerData: this.#start });
    const thread: Thread = { worker, batches: new Map(), outstanding: 0 };
    this.#threads.push(thread);
    if (this.#outstanding === 0) worker.unref();
    return new Promise<void>((ready, failed) => {
      let loaded = false;
      worker.on('message', (reply: WorkerReply) => {
        if ('ready' in reply) {
          loaded = true;
          ready();
        } else if ('loadError' in reply) {
          const error = workerFailed(`WorkerPool: cannot load export '${this.#start.exportName}' of ${this.#start.module}: ${reply.loadError.message}`, rebuildError(reply.loadError));
          this.#break(error);
          failed(error);
        } else this.#answer(thread, reply.batch, reply.outcomes);
      });
      worker.on('error', (error) => {
        if (!loaded) failed(workerFailed(`WorkerPool: a thread failed while loading ${this.#start.module}: ${error.message}`, error));
        this.#replace(thread, workerFailed(`WorkerPool: a worker thread failed: ${error.message}`, error));
      });
      worker.on('exit', (code) => this.#replace(thread, workerFailed(`WorkerPool: a worker thread exited with code ${code}`)));
    });
  }

  #dispatch(): void {
    this.#dispatchScheduled = false;
    const live = this.#threads;
    while (this.#queue.length > 0 && live.length > 0) {
      let target = live[0]!;
      for (const t of live) if (t.outstanding < target.outstanding) target = t;
      const share = Math.ceil(this.#queue.length / live.length);
      const calls = this.#queue.splice(0, Math.min(this.#maxBatch, share));
      const batch = this.#nextBatch++;
      target.batches.set(batch, calls);
      target.outstanding += calls.length;
      const request: BatchRequest = { batch, inputs: calls.map((c) => c.input) };
      try {
        target.worker.postMessage(request);
      } catch (error) {
        target.batches.delete(batch);
        target.outstanding -= calls.length;
        for (const call of calls) this.#settle(call, workerFailed(`WorkerPool: cannot send the input to a thread: ${(error as Error).message}`, error), false);
      }
    }
  }

  #answer(thread: Thread, batch: number, outcomes: WorkerReply extends infer R ? (R extends { outcomes: infer C } ? C : never) : never): void {
    const calls = thread.batches.get(batch);
    if (calls === undefined) return;
    thread.batches.delete(batch);
    thread.outstanding -= calls.length;
    for (let i = 0; i < calls.length; i++) {
      const outcome = outcomes[i];
      if (outcome?.ok === true) this.#settle(calls[i]!, outcome.value, true);
      else this.#settle(calls[i]!, outcome === undefined ? workerFailed('WorkerPool: a thread answered without an outcome') : rebuildError(outcome.error), false);
    }
  }

  #settle(call: Call, result: unknown, ok: boolean): void {
    this.#outstanding--;
    if (ok) {
      this.#completed++;
      call.resolve(result);
    } else {
      this.#failed++;
      call.reject(result);
    }
    if (this.#outstanding === 0) for (const t of this.#threads) t.worker.unref();
  }

  #failThread(thread: Thread, error: unknown): void {
    for (const calls of thread.batches.values()) for (const call of calls) this.#settle(call, error, false);
    thread.batches.clear();
    thread.outstanding = 0;
  }

  /** A thread died: fail its calls, and start another unless the pool is closing or broken. */
  #replace(thread: Thread, error: SluiceError): void {
    const index = this.#threads.indexOf(thread);
    if (index < 0) return;
    this.#threads.splice(index, 1);
    this.#failThread(thread, error);
    if (this.#closed || this.#broken !== null) return;
    this.#restarts++;
    this.#spawn().catch(() => {});
    if (this.#queue.length > 0) this.#dispatch();
  }

  /** The module cannot be loaded: every outstanding and later call fails with `error`. */
  #break(error: SluiceError): void {
    this.#broken = error;
    for (const call of this.#queue) this.#settle(call, error, false);
    this.#queue = [];
    for (const t of this.#threads) this.#failThread(t, error);
  }
}
