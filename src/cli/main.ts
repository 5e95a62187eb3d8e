/**
 * Entry point of the `sluice` command (`node src/cli/main.ts …`, `npm start`, bin/sluice.js): runs
 * the CLI with the process arguments and exits with its code.
 */
import { runCli } from './run.ts';

// `sluice topics tail … | head` closes stdout early: that is a normal way to stop, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Resources are closed by now; should a backend leave a handle open, do not hang the terminal.
setTimeout(() => process.exit(code), 2_000).unref();
