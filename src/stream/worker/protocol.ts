/**
 * Messages between a {@link WorkerPool} and its threads. The pool sends calls in batches (one
 * message per batch, to spread the cost of structured cloning and of the message hop); a thread
 * answers each batch with one message carrying an outcome per call, in call order.
 *
 *   pool → thread   { batch: number, inputs: unknown[] }
 *   thread → pool   { ready: true }                                   once the module is loaded
 *                   { loadError: SerializedError }                    the module or export is unusable
 *                   { batch: number, outcomes: CallOutcome[] }        one outcome per input
 */
import { SluiceError } from '../../errors.ts';

/** What the pool passes to a new thread as `workerData`. */
export interface WorkerStart {
  /** File URL of the module that exports the function. */
  readonly module: string;
  /** Name of the exported function. */
  readonly exportName: string;
}

/** An error that crossed the thread boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** A SluiceError's code (and retriable flag), so the caller gets a typed error back. */
  readonly code?: string;
  readonly retriable?: boolean;
}

/** The outcome of one call. */
export type CallOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError };

/** A batch of calls for a thread. */
export interface BatchRequest {
  readonly batch: number;
  readonly inputs: readonly unknown[];
}

/** A thread's messages to the pool. */
export type WorkerReply =
  | { readonly ready: true }
  | { readonly loadError: SerializedError }
  | { readonly batch: number; readonly outcomes: readonly CallOutcome[] };

/** Turns anything thrown into a {@link SerializedError}. */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const typed = error instanceof SluiceError ? { code: error.code, retriable: error.retriable } : {};
  return error.stack === undefined ? { name: error.name, message: error.message, ...typed } : { name: error.name, message: error.message, stack: error.stack, ...typed };
}
