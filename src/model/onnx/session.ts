/**
 * A loaded ONNX model running in its own worker thread, with a synchronous and an asynchronous way
 * to run rows through it. Raw outputs only; {@link OnnxScorer} maps them to scores.
 *
 * Why a worker: onnxruntime-node's `session.run` returns a promise, but the binding runs the model
 * synchronously on the calling thread (deferred by one `setImmediate`), so a large batch on the main
 * thread stalls its event loop for the whole batch. In the worker it stalls nothing of the caller's.
 * - `run(rows)` (async): rows go to the worker in chunks of `chunkRows`; the caller's thread only
 *   copies and waits.
 * - `runSync(rows)` (sync, at most `syncRows` rows): the caller blocks in `Atomics.wait` until the
 *   worker answers or `timeoutMs` passes; a timeout closes the session (its shared buffers can no
 *   longer be trusted) and throws a retriable MODEL_ONNX error.
 * Loading is synchronous too (`openSync`, blocking until the worker has parsed the model) or
 * asynchronous (`open`).
 */

import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { CONTROL_SLOTS, Slot, Status } from './protocol.ts';
import type { LoadedInfo, RunRequest, RunResult, WorkerFailure, WorkerInit } from './protocol.ts';

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Options of an {@link OnnxSession}. */
export interface OnnxSessionOptions {
  /** Row width: the number of features, in the order of the model's input columns. */
  readonly width: number;
  /** Output to read; default `scores` when the model has one, else its first output. */
  readonly output?: string;
  /** onnxruntime intra-op threads in the worker. Default 1. */
  readonly threads?: number;
  /** Most rows one synchronous call carries. Default 64. */
  readonly syncRows?: number;
  /** Rows per message of an asynchronous batch. Default 8192. */
  readonly chunkRows?: number;
  /** Most asynchronous chunks in flight; more are refused (retriable). Default 1024. */
  readonly maxInFlight?: number;
  /** Longest a synchronous call (or a synchronous load) waits, ms. Default 10000. */
  readonly timeoutMs?: number;
}

/** Defaults of {@link OnnxSessionOptions}. */
export const ONNX_SESSION_DEFAULTS = {
  threads: 1,
  syncRows: 64,
  chunkRows: 8192,
  maxInFlight: 1024,
  timeoutMs: 10_000,
} as const;

type ResolvedOptions = Required<Omit<OnnxSessionOptions, 'output' | 'width'>>;

/** A worker that is loading a model. */
interface Started {
  readonly worker: Worker;
  readonly control: Int32Array;
  readonly data: SharedArrayBuffer;
  readonly port: MessagePort;
  readonly width: number;
  readonly options: ResolvedOptions;
}

interface Pending {
  readonly resolve: (raw: Float32Array) => void;
  readonly reject: (error: Error) => void;
}

/** A model loaded into its own worker thread. */
export class OnnxSession {
  /** What the worker found in the model. */
  readonly info: LoadedInfo;
  readonly width: number;
  readonly #worker: Worker;
  readonly #control: Int32Array;
  readonly #input: Float32Array;
  readonly #output: Float32Array;
  readonly #port: MessagePort;
  readonly #syncRows: number;
  readonly #chunkRows: number;
  readonly #maxInFlight: number;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed: SluiceError | null = null;

  private constructor(parts: Started & { readonly info: LoadedInfo }) {
    this.#worker = parts.worker;
    this.#control = parts.control;
    this.#port = parts.port;
    this.info = parts.info;
    this.width = parts.width;
    this.#syncRows = parts.options.syncRows;
    this.#chunkRows = parts.options.chunkRows;
    this.#maxInFlight = parts.options.maxInFlight;
    this.#timeoutMs = parts.options.timeoutMs;
    this.#input = new Float32Array(parts.data, 0, this.#syncRows * this.width);
    this.#output = new Float32Array(parts.data, this.#syncRows * this.width * 4, this.#syncRows);
    this.#worker.on('message', (message: RunResult | WorkerFailure) => this.#onMessage(message));
    this.#worker.on('error', (error) => this.#fail(onnxError(`the ONNX worker failed: ${error.message}`, error, true)));
    this.#worker.on('exit', () => this.#fail(onnxError('the ONNX worker exited', undefined, true)));
    this.#worker.unref(); // an idle model must not keep the process alive
  }

  /** Loads `model` and blocks until the worker has parsed and checked it. */
  static openSync(model: Uint8Array, options: OnnxSessionOptions): OnnxSession {
    const start = OnnxSession.#start(model, options);
    const outcome = Atomics.wait(start.control, Slot.RESPONSE, 0, start.options.timeoutMs);
    return OnnxSession.#finishOpen(start, outcome === 'timed-out');
  }

  /** Loads `model` without blocking the caller's thread. */
  static async open(model: Uint8Array, options: OnnxSessionOptions): Promise<OnnxSession> {
    const start = OnnxSession.#start(model, options);
    const wait = Atomics.waitAsync(start.control, Slot.RESPONSE, 0, start.options.timeoutMs);
    const outcome = wait.async ? await wait.value : wait.value;
    return OnnxSession.#finishOpen(start, outcome === 'timed-out');
  }

  static #start(model: Uint8Array, options: OnnxSessionOptions): Started {
    const opts = {
      threads: positiveInt(options.threads ?? ONNX_SESSION_DEFAULTS.threads, 'threads'),
      syncRows: positiveInt(options.syncRows ?? ONNX_SESSION_DEFAULTS.syncRows, 'syncRows'),
      chunkRows: positiveInt(options.chunkRows ?? ONNX_SESSION_DEFAULTS.chunkRows, 'chunkRows'),
      maxInFlight: positiveInt(options.maxInFlight ?? ONNX_SESSION_DEFAULTS.maxInFlight, 'maxInFlight'),
      timeoutMs: positiveInt(options.timeoutMs ?? ONNX_SESSION_DEFAULTS.timeoutMs, 'timeoutMs'),
    };
    const width = positiveInt(options.width, 'width');
    const controlBuffer = new SharedArrayBuffer(CONTROL_SLOTS * 4);
    const data = new SharedArrayBuffer(opts.syncRows * (width + 1) * 4);
    const channel = new MessageChannel();
    const init: WorkerInit & { syncPort: MessagePort } = {
      model: Uint8Array.from(model),
      control: controlBuffer,
      data,
      syncRows: opts.syncRows,
      width,
      output: options.output ?? null,
      threads: opts.threads,
      syncPort: channel.port2,
    };
    const worker = new Worker(new URL(`./worker${EXTENSION}`, import.meta.url), {
      workerData: init,
      transferList: [channel.port2],
    });
    return { worker, control: new Int32Array(controlBuffer), data, port: channel.port1, width, options: opts };
  }

  static #finishOpen(start: Started, timedOut: boolean): OnnxSession {
    const reply = timedOut ? undefined : (receiveMessageOnPort(start.port)?.message as LoadedInfo | WorkerFailure | undefined);
    if (reply === undefined || reply.type === 'error') {
      void start.worker.terminate();
      start.port.close();
      if (reply === undefined) throw onnxError(`loading the ONNX model timed out after ${start.options.timeoutMs} ms`, undefined, true);
      throw onnxError(`cannot load the ONNX model: ${reply.message}`);
    }
    if (reply.inputWidth !== null && reply.inputWidth !== start.width) {
      void start.worker.terminate();
      start.port.close();
      throw new SluiceError(
        ErrorCode.MODEL_FEATURE_MISMATCH,
        `the ONNX model's input '${reply.inputName}' has ${reply.inputWidth} columns but ${start.width} features were given`,
        { details: { expected: reply.inputWidth, actual: start.width } },
      );
    }
    return new OnnxSession({ ...start, info: reply });
  }

  /** Rows a synchronous call may carry. */
  get syncRows(): number {
    return this.#syncRows;
  }

  /**
   * Runs `count` rows (row-major, `width` floats each) and blocks until the raw outputs are back.
   * Returns a view that the next call overwrites: copy what you keep.
   */
  runSync(rows: ArrayLike<number>, count: number): Float32Array {
    this.#checkOpen();
    if (!Number.isInteger(count) || count < 1 || count > this.#syncRows) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `count must be an integer in 1..${this.#syncRows}, got ${count}`);
    }
    checkLength(rows.length, count, this.width);
    this.#input.set(rows);
    const before = Atomics.load(this.#control, Slot.RESPONSE);
    Atomics.store(this.#control, Slot.ROWS, count);
    Atomics.add(this.#control, Slot.REQUEST, 1);
    Atomics.notify(this.#control, Slot.REQUEST);
    const outcome = Atomics.wait(this.#control, Slot.RESPONSE, before, this.#timeoutMs);
    if (outcome === 'timed-out') {
      const error = onnxError(`ONNX inference timed out after ${this.#timeoutMs} ms; the session is closed`, undefined, true);
      this.#fail(error);
      void this.#worker.terminate();
      throw error;
    }
    if (Atomics.load(this.#control, Slot.STATUS) !== Status.OK) {
      const failure = receiveMessageOnPort(this.#port)?.message as WorkerFailure | undefined;
      throw workerError(failure?.kind ?? 'onnx', failure?.message ?? 'unknown worker error');
    }
    return this.#output.subarray(0, count);
  }

  /** Runs `count` rows (row-major) in the worker, in chunks; resolves to one raw output per row. */
  async run(rows: ArrayLike<number>, count: number): Promise<Float32Array> {
    this.#checkOpen();
    if (!Number.isInteger(count) || count < 0) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `count must be a non-negative integer, got ${count}`);
    checkLength(rows.length, count, this.width);
    const chunks: Promise<Float32Array>[] = [];
    for (let first = 0; first < count; first += this.#chunkRows) {
      const n = Math.min(this.#chunkRows, count - first);
      chunks.push(this.#send(Float32Array.from(sliceOf(rows, first * this.width, (first + n) * this.width)), n));
    }
    const parts = await Promise.all(chunks);
    const out = new Float32Array(count);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Stops the worker; pending calls reject with MODEL_ONNX. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed === null) this.#fail(onnxError('the ONNX session is closed'));
    this.#port.close();
    await this.#worker.terminate();
  }

  #send(rows: Float32Array, count: number): Promise<Float32Array> {
    if (this.#pending.size >= this.#maxInFlight) {
      return Promise.reject(onnxError(`more than ${this.#maxInFlight} ONNX batches in flight`, undefined, true));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref(); // keep the process alive while a batch is out
      this.#pending.set(id, { resolve, reject });
      const request: RunRequest = { type: 'run', id, rows, count };
      this.#worker.postMessage(request, [rows.buffer as ArrayBuffer]);
    });
  }

  #onMessage(message: RunResult | WorkerFailure): void {
    if (message.id === undefined) return;
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (message.type === 'result') pending.resolve(message.raw);
    else pending.reject(workerError(message.kind, message.message));
  }

  #fail(error: SluiceError): void {
    if (this.#closed === null) this.#closed = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #checkOpen(): void {
    if (this.#closed !== null) throw this.#closed;
  }
}

function sliceOf(rows: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (ArrayBuffer.isView(rows)) return (rows as unknown as Float32Array).subarray(from, to);
  return Array.prototype.slice.call(rows, from, to) as number[];
}

function checkLength(length: number, count: number, width: number): void {
  if (length !== count * width) {
    throw new SluiceError(ErrorCode.MODEL_FEATURE_MISMATCH, `expected ${count} rows of ${width} features (${count * width} values), got ${length}`);
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `/onnx/${name} must be an integer ≥ 1, got ${value}`);
  return value;
}

function onnxError(message: string, cause?: unknown, retriable = false): SluiceError {
  return new SluiceError(ErrorCode.MODEL_ONNX, message, cause === undefined ? { retriable } : { cause, retriable });
}

function workerError(kind: WorkerFailure['kind'], message: string): SluiceError {
  return kind === 'features'
    ? new SluiceError(ErrorCode.MODEL_FEATURE_MISMATCH, `the ONNX model rejected the input: ${message}`)
    : onnxError(`ONNX inference failed: ${message}`);
}
