/**
 * `sluice bench models`: hands its arguments to the detector benchmark (bench/models.ts), loaded on
 * demand by a computed specifier (the benchmark lives outside src/ and is not part of the built package).
 */
import { ErrorCode, SluiceError } from '../errors.ts';

/** Runs bench/models.ts with CLI-style arguments (`--records N`, `--runs N`, `--json`). */
export async function runModelsBench(args: readonly string[]): Promise<void> {
  const url = new URL('../../bench/models.ts', import.meta.url);
  let mod: { runModelsBench?: unknown };
  try {
    mod = (await import(url.href)) as { runModelsBench?: unknown };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'the models benchmark runs from a source checkout only (bench/models.ts is not in this build)', { cause: error });
    }
    throw error;
  }
  if (typeof mod.runModelsBench !== 'function') throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'bench/models.ts does not export runModelsBench(args)');
  await (mod.runModelsBench as (args: readonly string[]) => Promise<unknown>)(args);
}
