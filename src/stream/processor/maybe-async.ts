/**
 * Helpers for code that is synchronous on its fast path and asynchronous only when a step returns a
 * promise (mapAsync, async forEach, async user processors): a chain of synchronous operators runs
 * without allocating a single promise.
 */

/** A step that may or may not be asynchronous. */
export type MaybePromise = void | Promise<void>;

/**
 * Calls `fn` on each item in order; returns undefined if every call was synchronous, otherwise a
 * promise that settles after the last call (later calls wait for earlier promises).
 */
export function eachInOrder<T>(items: Iterable<T>, fn: (item: T) => MaybePromise): MaybePromise {
  const it = items[Symbol.iterator]();
  for (let step = it.next(); !step.done; step = it.next()) {
    const r = fn(step.value);
    if (r !== undefined) return r.then(() => continueAsync(it, fn));
  }
  return undefined;
}

async function continueAsync<T>(it: Iterator<T>, fn: (item: T) => MaybePromise): Promise<void> {
  for (let step = it.next(); !step.done; step = it.next()) await fn(step.value);
}
