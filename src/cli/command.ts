/** The shape of a `sluice` command: its name, one-line summary, usage text and what it runs. */

/** One top-level command of the `sluice` CLI. */
export interface Command {
  /** The word typed after `sluice`. */
  readonly name: string;
  /** One line for `sluice --help`. */
  readonly summary: string;
  /** Full help: synopsis, flags, examples. */
  readonly usage: string;
  /** Runs with the arguments after the command's name; resolves with the exit code. */
  run(args: readonly string[]): Promise<number>;
}
