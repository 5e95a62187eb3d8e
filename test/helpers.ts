/**
 * Shared test helpers (DESIGN.md §6.10): random resource names, polling with a deadline instead of
 * sleeps, byte/text conversion, a consumer poll loop that accumulates records, typed-error
 * assertions and the probe that tells whether the repo's test Kafka broker is up.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isSluiceError, type ErrorCode } from '../src/errors.ts';
import type { Consumer, LogRecord } from '../src/log/types.ts';

/** A random topic name, unique per call (legal on every backend). */
export function randomTopic(prefix = 't'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A random consumer group id, unique per call. */
export function randomGroup(prefix = 'g'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A random transactional id, unique per call. */
export function randomTransactionalId(prefix = 'tx'): string {
  return `${prefix}-${randomUUID()}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `s`. */
export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** UTF-8 text of `b` (null stays null). */
export function text(b: Uint8Array): string;
export function text(b: Uint8Array | null): string | null;
export function text(b: Uint8Array | null): string | null {
  return b === null ? null : decoder.decode(b);
}

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Give up after this long. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 100 ms. */
  readonly intervalMs?: number;
  /** Says what was awaited, for the timeout message. */
  readonly message?: string;
}

/**
 * Calls `fn` until it returns something other than `false` without throwing, and returns that;
 * fails with the last error (or the last `false`) once `timeoutMs` has passed. Use `assert` inside
 * `fn` for conditions that should say why they do not hold yet.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<Exclude<T, false>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await fn();
      if (value !== false) return value as Exclude<T, false>;
      last = new Error('condition returned false');
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const what = options.message ?? 'condition';
      const reason = last instanceof Error ? last.message : String(last);
      throw new Error(`${what} still not met after ${timeoutMs} ms (${attempt} attempts): ${reason}`, { cause: last });
    }
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Polls `consumer` until `predicate(all records so far)` holds, and returns every record read.
 * Fails with the count read so far when `timeoutMs` passes first.
 */
export async function pollUntil(
  consumer: Consumer,
  predicate: (records: readonly LogRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<LogRecord[]> {
  const deadline = Date.now() + timeoutMs;
  const all: LogRecord[] = [];
  while (!predicate(all)) {
    const left = deadline - Date.now();
    if (left <= 0) {
      assert.fail(`pollUntil: condition not met after ${timeoutMs} ms; ${all.length} records read`);
    }
    const batch = await consumer.poll({ timeoutMs: Math.max(1, Math.min(500, left)) });
    for (const r of batch) all.push(r);
  }
  return all;
}

/**
 * Asserts that `action` (a promise, or a function that throws or rejects) fails with a SluiceError
 * of `code` whose message mentions each of `mentions`; returns the error.
 */
export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: ErrorCode,
  ...mentions: readonly string[]
): Promise<Error> {
  let error: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (e) {
    error = e;
  }
  if (error === undefined) assert.fail(`expected a SluiceError ${code}, but the call succeeded`);
  assert.ok(
    isSluiceError(error, code),
    `expected a SluiceError ${code}, got ${error instanceof Error ? `${(error as { code?: unknown }).code ?? error.name}: ${error.message}` : String(error)}`,
  );
  for (const m of mentions) {
    assert.ok(error.message.includes(m), `message of ${code} should mention ${JSON.stringify(m)}: ${error.message}`);
  }
  return error;
}

/**
 * A fresh temporary directory and a function that removes it. node:test runs `t.after` hooks in the
 * order they were added: add the removal after the log's close, or the directory goes while the
 * log's threads may still open files there (a housekeeping thread starting then failed a test with
 * "disk I/O error"). Removal tries again a few times when the directory is not empty yet.
 */
export async function tempDir(prefix = 'sluice-test-'): Promise<{ readonly path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }) };
}

/** Resolves true when a TCP connection to `host:port` opens within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Host and port of the repo's test broker (scripts/kafka). */
export const TEST_BROKER = { host: '127.0.0.1', port: 19092 } as const;

/** Why the Kafka tests are skipped when no broker answers. */
export const NO_KAFKA_MESSAGE = 'no Kafka broker on 127.0.0.1:19092; start one with scripts/kafka start';

/**
 * Whether the Kafka tests can run: `{ available: true }` when the test broker accepts a TCP
 * connection, otherwise `{ available: false, mustFail }` where `mustFail` is true under CI
 * (`CI=true`), where a missing broker is an error rather than a reason to skip.
 */
export async function probeKafka(
  timeoutMs = 1_000,
): Promise<{ readonly available: true } | { readonly available: false; readonly mustFail: boolean; readonly message: string }> {
  if (await canConnect(TEST_BROKER.host, TEST_BROKER.port, timeoutMs)) return { available: true };
  return { available: false, mustFail: process.env.CI === 'true', message: NO_KAFKA_MESSAGE };
}
