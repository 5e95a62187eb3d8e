/**
 * Where jobs run: on a worker thread (the default: fits and evaluations are CPU-bound and would
 * otherwise stall the event loop of everything else in the process) or on the calling thread. Both
 * run the same ./job.ts, so a seed gives the same model either way.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCode, SluiceError, type ErrorCode as Code } from '../errors.ts';
import { trainingAborted } from './abort.ts';
import { runJob, type JobResult, type TrainingJob } from './job.ts';

/** Runs training jobs one at a time. */
export interface JobRunner {
  /**
   * Runs `job`. On a worker, an abort of `signal` stops the job at once (TRAINING_ABORTED); on the
   * calling thread a job runs to its end.
   */
  run(job: TrainingJob, signal?: AbortSignal): Promise<JobResult>;
  /** Stops the worker, if any. */
  close(): Promise<void>;
}

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

type Reply =
  | { readonly id: number; readonly ok: true; readonly result: JobResult }
  | { readonly id: number; readonly ok: false; readonly error: { readonly code: Code | null; readonly message: string } };

/** A runner on the calling thread. */
export function inProcessRunner(): JobRunner {
  return { run: (job) => runJob(job), close: async () => undefined };
}

/** A runner on one worker thread, started on the first job and stopped by `close` (or an abort). */
export function workerRunner(): JobRunner {
  let worker: Worker | null = null;
  let nextId = 1;
  const stop = async (): Promise<void> => {
    const w = worker;
    worker = null;
    if (w !== null) await w.terminate();
  };
  return {
    run(job, signal) {
      if (signal?.aborted === true) return Promise.reject(trainingAborted());
      const w = (worker ??= new Worker(new URL(`./worker${EXTENSION}`, import.meta.url)));
      const id = nextId++;
      return new Promise<JobResult>((resolve, reject) => {
        const done = (): void => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
          signal?.removeEventListener('abort', onAbort);
        };
        const onMessage = (reply: Reply): void => {
          if (reply.id !== id) return;
          done();
          if (reply.ok) resolve(reply.result);
          else reject(new SluiceError(reply.error.code ?? ErrorCode.TRAINING_WORKER, reply.error.message));
        };
        const onError = (error: Error): void => {
          done();
          worker = null;
          reject(new SluiceError(ErrorCode.TRAINING_WORKER, `the training worker failed on model '${job.name}': ${error.message}`, { cause: error }));
        };
        const onExit = (code: number): void => {
          done();
          worker = null;
          reject(new SluiceError(ErrorCode.TRAINING_WORKER, `the training worker exited with code ${code} while fitting model '${job.name}'`));
        };
        const onAbort = (): void => {
          done();
          void stop();
          reject(trainingAborted());
        };
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        signal?.addEventListener('abort', onAbort, { once: true });
        w.postMessage({ id, job });
      });
    },
    close: stop,
  };
}
