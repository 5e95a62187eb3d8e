/**
 * Child processes for the embedded backend's multi-process tests: spawns a fixture script under
 * test/fixtures/ with this Node binary, collects its stdout line by line (only complete lines, so a
 * line cut by SIGKILL never counts), and waits for lines with a deadline instead of sleeping.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of a fixture script in test/fixtures/embedded/. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/embedded/${name}`, import.meta.url));
}

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running fixture process. */
export interface Child {
  readonly process: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: readonly string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ChildExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /**
   * Resolves with the first line (from index `from` on) that satisfies `predicate`; fails after
   * `timeoutMs`, or as soon as the child exits without printing one.
   */
  waitForLine(predicate: (line: string) => boolean, options?: { readonly timeoutMs?: number; readonly from?: number; readonly what?: string }): Promise<string>;
  /** Writes a line to the child's stdin. */
  send(line: string): void;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
}

/** Spawns `node <fixture> ...args` with stdin, stdout and stderr piped. */
export function spawnFixture(name: string, args: readonly string[]): Child {
  const proc = spawn(process.execPath, [fixture(name), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  let err = '';
  let exit: ChildExit | null = null;
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      lines.push(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
    wake();
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => {
    err = (err + chunk).slice(-20_000);
  });
  proc.stdin.on('error', () => {
    // The child may be killed while we write to it.
  });
  const exited = new Promise<ChildExit>((resolve) => {
    // 'close' comes after every stdout chunk was delivered.
    proc.on('close', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
      wake();
    });
  });

  return {
    process: proc,
    lines,
    stderr: () => err,
    exited,
    hasExited: () => exit !== null,
    waitForLine(predicate, options = {}) {
      const timeoutMs = options.timeoutMs ?? 20_000;
      const what = options.what ?? 'a matching line';
      let next = options.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = (): void => {
          for (; next < lines.length; next++) {
            if (predicate(lines[next]!)) {
              done();
              resolve(lines[next]!);
              return;
            }
          }
          if (exit !== null) {
            done();
            reject(new Error(`${name} exited (code ${exit.code}, signal ${exit.signal}) before printing ${what}; stderr:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} printed no ${what} within ${timeoutMs} ms; last lines: ${lines.slice(-5).join(' | ')}; stderr:\n${err}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    send(line) {
      if (exit === null) proc.stdin.write(`${line}\n`);
    },
    async kill(signal = 'SIGKILL') {
      if (exit === null) proc.kill(signal);
      return exited;
    },
  };
}

/** A random integer in [min, max]. */
export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
