/**
 * The inference worker: owns one onnxruntime-node session, so that inference (which the binding
 * runs synchronously on the calling thread) never runs on the caller's event loop. Serves
 * synchronous calls through shared memory and asynchronous batches through messages; see
 * protocol.ts.
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { Slot, Status } from './protocol.ts';
import type { LoadedInfo, RunRequest, RunResult, WorkerFailure, WorkerInit } from './protocol.ts';

const init = workerData as WorkerInit & { readonly syncPort: MessagePort };
const control = new Int32Array(init.control);
const inputArea = new Float32Array(init.data, 0, init.syncRows * init.width);
const outputArea = new Float32Array(init.data, init.syncRows * init.width * 4, init.syncRows);

let session: InferenceSession;
let info: LoadedInfo;

/** Chooses the scored output: the one named, else `scores` when present, else the first. */
function pickOutput(names: readonly string[]): string {
  if (init.output !== null) {
    if (!names.includes(init.output)) throw new Error(`the model has no output '${init.output}' (outputs: ${names.join(', ')})`);
    return init.output;
  }
  return names.includes('scores') ? 'scores' : (names[0] as string);
}

async function load(): Promise<LoadedInfo> {
  session = await InferenceSession.create(init.model, { intraOpNumThreads: init.threads, interOpNumThreads: 1 });
  if (session.inputNames.length !== 1) {
    throw new Error(`the model must have exactly one input tensor, it has ${session.inputNames.length}`);
  }
  const input = session.inputMetadata[0];
  if (input === undefined || !input.isTensor || (input.type !== 'float32' && input.type !== 'float64')) {
    throw new Error('the model input must be a float32 or float64 tensor');
  }
  if (input.shape.length !== 2) throw new Error(`the model input must be 2-D [rows, features], it has shape [${input.shape.join(', ')}]`);
  const width = input.shape[1];
  return {
    type: 'loaded',
    inputName: session.inputNames[0] as string,
    inputWidth: typeof width === 'number' ? width : null,
    inputType: input.type,
    outputName: pickOutput(session.outputNames),
    outputNames: [...session.outputNames],
  };
}

/** Runs `count` rows, returning one float per row. */
async function infer(rows: Float32Array, count: number): Promise<Float32Array> {
  const data = info.inputType === 'float64' ? Float64Array.from(rows) : rows;
  const feeds = { [info.inputName]: new Tensor(info.inputType as 'float32', data as Float32Array, [count, init.width]) };
  const result = await session.run(feeds, [info.outputName]);
  const tensor = result[info.outputName];
  if (tensor === undefined || tensor.size !== count) {
    throw new Error(`output '${info.outputName}' must hold one value per row; got ${tensor?.size ?? 0} for ${count} rows`);
  }
  const values = tensor.data;
  if (values instanceof Float32Array) return values.slice(); // own the memory, so it can be transferred
  if (values instanceof Float64Array || values instanceof Int32Array) return Float32Array.from(values);
  if (values instanceof BigInt64Array) return Float32Array.from(values, Number);
  throw new Error(`output '${info.outputName}' has unsupported type ${tensor.type}`);
}

function failure(error: unknown, id?: number): WorkerFailure {
  const message = error instanceof Error ? error.message : String(error);
  const kind = /dimension|Expected:/i.test(message) ? 'features' : 'onnx';
  return id === undefined ? { type: 'error', kind, message } : { type: 'error', id, kind, message };
}

function respond(status: number): void {
  Atomics.store(control, Slot.STATUS, status);
  Atomics.add(control, Slot.RESPONSE, 1);
  Atomics.notify(control, Slot.RESPONSE);
}

/** Serves synchronous calls forever: park on REQUEST, run, answer. */
async function serveSync(): Promise<void> {
  let seen = 0; // the caller's first request makes REQUEST 1, perhaps before we get here
  for (;;) {
    const wait = Atomics.waitAsync(control, Slot.REQUEST, seen);
    if (wait.async) await wait.value;
    seen = Atomics.load(control, Slot.REQUEST);
    const count = Atomics.load(control, Slot.ROWS);
    try {
      const raw = await infer(inputArea.slice(0, count * init.width), count);
      outputArea.set(raw);
      respond(Status.OK);
    } catch (error) {
      init.syncPort.postMessage(failure(error));
      respond(Status.ERROR);
    }
  }
}

async function main(): Promise<void> {
  try {
    info = await load();
  } catch (error) {
    init.syncPort.postMessage(failure(error));
    respond(Status.ERROR);
    return;
  }
  init.syncPort.postMessage(info);
  respond(Status.OK);
  parentPort?.on('message', (request: RunRequest) => {
    infer(request.rows, request.count).then(
      (raw) => {
        const reply: RunResult = { type: 'result', id: request.id, raw };
        parentPort?.postMessage(reply, [raw.buffer as ArrayBuffer]);
      },
      (error: unknown) => parentPort?.postMessage(failure(error, request.id)),
    );
  });
  await serveSync();
}

void main();
