/**
 * The training worker thread: runs jobs (./job.ts) posted by ./runner.ts one at a time, so that a
 * fit and its evaluation never run on the event loop of the process that started them (a serving
 * instance in the same process keeps its latency).
 *
 * Protocol: the parent posts `{ id, job }`; the worker answers `{ id, ok: true, result }` or
 * `{ id, ok: false, error: { code, message } }` (`code` is a SluiceError's code, or null).
 */
import { parentPort } from 'node:worker_threads';
import { isSluiceError } from '../errors.ts';
import { runJob, type TrainingJob } from './job.ts';

parentPort!.on('message', (message: { readonly id: number; readonly job: TrainingJob }) => {
  runJob(message.job).then(
    (result) => parentPort!.postMessage({ id: message.id, ok: true, result }),
    (error: unknown) =>
      parentPort!.postMessage({
        id: message.id,
        ok: false,
        error: { code: isSluiceError(error) ? error.code : null, message: error instanceof Error ? error.message : String(error) },
      }),
  );
});
