/**
 * The mapAsync operator: calls an async function per record with at most `concurrency` calls in
 * flight per task, and forwards results in input order. When the window is full, `process` waits
 * for the oldest call (backpressure up to the task's input); `flush` (end of batch) drains the
 * window. A rejected call is a processing error of its own record (not of the record that happened
 * to be waiting): it is removed from the window before the error is thrown, so the error policy can
 * handle it and the task carry on with the rest.
 */
import { asProcessingError } from '../failure.ts';
import type { AnyRecord, MapAsyncNode } from '../topology/nodes.ts';
import type { Processor } from './api.ts';
import type { MaybePromise } from './maybe-async.ts';
import type { NodeContext } from './node.ts';

interface Pending {
  readonly record: AnyRecord;
  readonly result: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
}

/** Creates the per-task processor of a mapAsync node. */
export function mapAsyncProcessor(node: MapAsyncNode): Processor<unknown, unknown, unknown, unknown> {
  const window: Pending[] = [];
  let ctx: NodeContext;

  const start = (record: AnyRecord): Pending => {
    let result: Pending['result'];
    try {
      result = node.fn(record).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    } catch (error) {
      result = Promise.resolve({ ok: false as const, error });
    }
    return { record, result };
  };

  const emitOldest = async (): Promise<void> => {
    const head = window.shift()!;
    const outcome = await head.result;
    if (!outcome.ok) throw asProcessingError(node.name, head.record.origin, outcome.error);
    await ctx.forward({ ...head.record, value: outcome.value });
  };

  return {
    init(context) {
      ctx = context as NodeContext;
    },
    process(record): MaybePromise {
      window.push(start(record as AnyRecord));
      if (window.length < node.concurrency) return undefined;
      return emitOldest();
    },
    async flush() {
      while (window.length > 0) await emitOldest();
    },
    close() {
      window.length = 0;
    },
  };
}
