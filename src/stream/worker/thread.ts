/**
 * The body of a {@link WorkerPool} thread: imports the user's module once, then runs each batch of
 * calls in order (awaiting async functions one by one, so a thread does one call at a time and the
 * pool's thread count is the parallelism) and answers with one outcome per call.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError, type BatchRequest, type CallOutcome, type WorkerReply, type WorkerStart } from './protocol.ts';

const start = workerData as WorkerStart;
const port = parentPort!;

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

async function load(): Promise<(input: unknown) => unknown> {
  const loaded = (await import(start.module)) as Record<string, unknown>;
  const fn = loaded[start.exportName];
  if (typeof fn !== 'function') {
    const exported = Object.keys(loaded).join(', ') || 'nothing';
    throw new TypeError(`export '${start.exportName}' of ${start.module} is ${fn === undefined ? 'missing' : `a ${typeof fn}, not a function`} (it exports: ${exported})`);
  }
  return fn as (input: unknown) => unknown;
}

async function runBatch(fn: (input: unknown) => unknown, request: BatchRequest): Promise<void> {
  const outcomes: CallOutcome[] = new Array(request.inputs.length);
  for (let i = 0; i < request.inputs.length; i++) {
    try {
      let value = fn(request.inputs[i]);
      if (value instanceof Promise) value = await value;
      outcomes[i] = { ok: true, value };
    } catch (error) {
      outcomes[i] = { ok: false, error: serializeError(error) };
    }
  }
  try {
    reply({ batch: request.batch, outcomes });
  } catch (error) {
    // A result that cannot be cloned fails the calls of this batch, not the thread.
    const failed = serializeError(error);
    reply({ batch: request.batch, outcomes: outcomes.map((o) => (o.ok ? { ok: false as const, error: failed } : o)) });
  }
}

try {
  const fn = await load();
  let queue = Promise.resolve();
  port.on('message', (request: BatchRequest) => {
    queue = queue.then(() => runBatch(fn, request));
  });
  reply({ ready: true });
} catch (error) {
  reply({ loadError: serializeError(error) });
}
