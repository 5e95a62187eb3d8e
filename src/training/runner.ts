/**
 * Where jobs run: on a worker thread (the default: fits and evaluations are CPU-bound and would
 * otherwise stall the event loop of everything else in the process) or on the calling thread. Both
 * run the same ./job.ts (`runJob`), so a seed gives the same model either way. The thread is a
 * one-thread {@link WorkerPool} of the stream layer, started on the first job; a stop terminates it
 * at once and the next job starts a fresh one.
 */
import { WorkerPool } from '../stream/worker/pool.ts';
import { trainingAborted } from './abort.ts';
import { runJob, type JobResult, type TrainingJob } from './job.ts';

/** Runs training jobs one at a time. */
export interface JobRunner {
  /**
   * Runs `job`. On a worker, an abort of `signal` stops the job at once (TRAINING_ABORTED); on the
   * calling thread a job runs to its end. A job's own failure keeps its typed error.
   */
  run(job: TrainingJob, signal?: AbortSignal): Promise<JobResult>;
  /** Stops the worker, if any. */
  close(): Promise<void>;
}

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const JOB_MODULE = new URL(`./job${EXTENSION}`, import.meta.url);

/** A runner on the calling thread. */
export function inProcessRunner(): JobRunner {
  return { run: (job) => runJob(job), close: async () => undefined };
}

/** A runner on one worker thread (see the file comment). */
export function workerRunner(): JobRunner {
  let pool: Promise<WorkerPool<TrainingJob, JobResult>> | null = null;
  const stop = async (): Promise<void> => {
    const p = pool;
    pool = null;
    if (p !== null) await (await p.catch(() => null))?.close();
  };
  return {
    async run(job, signal) {
      const aborted = (): boolean => signal?.aborted === true;
      if (aborted()) throw trainingAborted();
      const started = (pool ??= WorkerPool.start<TrainingJob, JobResult>({ module: JOB_MODULE, export: 'runJob', threads: 1 }));
      const onAbort = (): void => void stop();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        let threads: WorkerPool<TrainingJob, JobResult>;
        try {
          threads = await started;
        } catch (error) {
          if (pool === started) pool = null;
          throw error;
        }
        return await threads.call(job);
      } catch (error) {
        if (aborted()) throw trainingAborted();
        throw error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    close: stop,
  };
}
