/** Stopping a training run: the one error an abort produces, and the check made between steps. */
import { ErrorCode, SluiceError } from '../errors.ts';

/** The TRAINING_ABORTED error of a run stopped before it finished. */
export function trainingAborted(): SluiceError {
  return new SluiceError(ErrorCode.TRAINING_ABORTED, 'training stopped before it finished');
}

/** Throws TRAINING_ABORTED when `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw trainingAborted();
}
