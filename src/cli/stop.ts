/**
 * Stopping long-running commands: the first SIGINT (Ctrl-C) or SIGTERM aborts a signal the command
 * watches so that it closes cleanly and prints its summary; a second one exits at once.
 */

/** A stop request the command watches, and `dispose` to restore the default signal handling. */
export interface StopHandle {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** Listens for SIGINT/SIGTERM (and aborts after `durationMs`, when given). */
export function onStop(options: { readonly durationMs?: number | undefined; readonly onForce?: () => void } = {}): StopHandle {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      options.onForce?.();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    // The terminal echoed ^C without a newline: end that line before the command prints more.
    if (signal === 'SIGINT' && process.stdout.isTTY) process.stdout.write('\n');
    controller.abort(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  const timer = options.durationMs === undefined ? undefined : setTimeout(() => controller.abort('duration'), options.durationMs);
  return {
    signal: controller.signal,
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
