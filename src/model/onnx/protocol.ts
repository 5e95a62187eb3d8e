/**
 * The protocol between an {@link OnnxSession} (caller's thread) and its inference worker.
 *
 * Synchronous calls share two SharedArrayBuffers: `control` (Int32 slots below) and `data` (float32
 * rows in, float32 raw outputs out). The caller writes rows, bumps REQUEST and blocks in
 * `Atomics.wait` on RESPONSE; the worker, parked in `Atomics.waitAsync` on REQUEST, runs the model,
 * writes the outputs, sets STATUS and RESPONSE and notifies. Errors and the load result travel as
 * messages on `syncPort`, read with `receiveMessageOnPort` once RESPONSE has moved. Asynchronous
 * batches are ordinary messages on the worker's parentPort.
 */

/** Int32 slots of the control buffer. */
export const Slot = { REQUEST: 0, RESPONSE: 1, ROWS: 2, STATUS: 3 } as const;

/** Number of Int32 slots in the control buffer. */
export const CONTROL_SLOTS = 4;

/** Values of the STATUS slot. */
export const Status = { OK: 0, ERROR: 1 } as const;

/** Data the worker starts with. */
export interface WorkerInit {
  readonly model: Uint8Array;
  readonly control: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
  /** Rows a synchronous call may carry (sizes `data`). */
  readonly syncRows: number;
  readonly width: number;
  readonly output: string | null;
  readonly threads: number;
}

/** Metadata the worker reports after loading a model. */
export interface LoadedInfo {
  readonly type: 'loaded';
  readonly inputName: string;
  /** Declared row width of the input, or null when the dimension is symbolic. */
  readonly inputWidth: number | null;
  readonly inputType: string;
  readonly outputName: string;
  readonly outputNames: readonly string[];
}

/** A failure reported by the worker; `kind` picks the error code. */
export interface WorkerFailure {
  readonly type: 'error';
  readonly id?: number;
  readonly kind: 'onnx' | 'features';
  readonly message: string;
}

/** An asynchronous batch request. */
export interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly rows: Float32Array;
  readonly count: number;
}

/** An asynchronous batch result: one raw output per row. */
export interface RunResult {
  readonly type: 'result';
  readonly id: number;
  readonly raw: Float32Array;
}
