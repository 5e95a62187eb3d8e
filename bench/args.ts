/** Small command-line helpers shared by the benchmark programs. */

/** Prints the usage and exits when --help was given. */
export function exitOnHelp(help: boolean | undefined, usage: string): void {
  if (help !== true) return;
  console.log(usage);
  process.exit(0);
}

/** A parser of positive-integer flags whose errors end with the usage. */
export function positiveIntParser(usage: string): (name: string, value: string) => number {
  return (name, value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${value}'\n${usage}`);
    return n;
  };
}
