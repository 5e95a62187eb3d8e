/**
 * Runs the real `sluice` CLI as a child process (this Node with src/cli/main.ts) and waits on its
 * output and exit with deadlines, never with sleeps. Children still running when a test ends are
 * killed by the cleanup registered with `t.after`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** A running CLI process and its output so far. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with stdout once `pattern` matches it; rejects (with the output) after `timeoutMs` or on exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (signals as 128 + n); rejects after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number>;
}

/** What {@link runCli} returns once the process has exited. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts `sluice ...args`; the process is killed when the test ends if it is still running. */
export function startCli(t: TestContext, args: readonly string[]): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.SLUICE_DEBUG;
  const child = spawn(process.execPath, [MAIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exitCode: number | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    notify();
  });
  child.on('close', (code, signal) => {
    exitCode = code ?? 128 + (SIGNALS[signal ?? ''] ?? 0);
    notify();
  });
  t.after(() => {
    if (exitCode === undefined) child.kill('SIGKILL');
  });
  const describe = (): string => `\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        const value = check();
        if (value !== undefined) {
          cleanup();
          resolve(value);
        } else if (exitCode !== undefined) {
          cleanup();
          reject(new Error(`sluice ${args.join(' ')} exited with ${exitCode} before ${what}${describe()}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`sluice ${args.join(' ')}: ${what} not seen within ${timeoutMs} ms${describe()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        listeners.delete(done);
      };
      listeners.add(done);
      done();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: (pattern, timeoutMs = 15_000) => until(() => out.match(pattern) ?? undefined, timeoutMs, `output matching ${pattern}`),
    exit: (timeoutMs = 30_000) => until(() => exitCode, timeoutMs, 'exit'),
  };
}

/** Runs `sluice ...args` to completion and returns its exit code and output. */
export async function runCli(t: TestContext, args: readonly string[], timeoutMs = 30_000): Promise<CliResult> {
  const cli = startCli(t, args);
  const code = await cli.exit(timeoutMs);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
