/**
 * What a topology does with bad input (records that cannot be decoded or timestamped) and with
 * exceptions thrown by user functions: fail, skip (and count), or dead-letter (produce the original
 * record bytes, with the error in headers, to a dead-letter topic). Never a silent drop, never a
 * crash loop: `fail` stops the runtime with a typed error naming topic, partition and offset, and
 * leaves the failing record uncommitted.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';

/** What to do with a record that failed. */
export const ErrorAction = { fail: 'fail', skip: 'skip', deadLetter: 'dead-letter' } as const;
/** `fail`, `skip` or `dead-letter`. */
export type ErrorAction = (typeof ErrorAction)[keyof typeof ErrorAction];

/** Options of a topology's error policy. */
export interface ErrorPolicyOptions {
  /** Action for both kinds of error unless set separately below. Default `fail`. */
  readonly onError?: ErrorAction;
  /** Action for records that cannot be decoded or have an invalid timestamp. */
  readonly deserialization?: ErrorAction;
  /** Action for records whose processing threw (user functions, output encoding). */
  readonly processing?: ErrorAction;
  /** Topic of dead letters; required when an action is `dead-letter`. */
  readonly deadLetterTopic?: string;
}

/** A validated error policy. */
export interface ErrorPolicy {
  readonly deserialization: ErrorAction;
  readonly processing: ErrorAction;
  readonly deadLetterTopic: string | null;
}

/** The default: fail on any error. */
export const ERROR_POLICY_DEFAULTS: ErrorPolicy = Object.freeze({ deserialization: 'fail', processing: 'fail', deadLetterTopic: null });

const ACTIONS: readonly string[] = Object.values(ErrorAction);

function invalid(path: string, reason: string): SluiceError {
  return new SluiceError(ErrorCode.STREAM_INVALID_TOPOLOGY, `/errors/${path} ${reason}`, { details: { path: `/errors/${path}` } });
}

function action(path: string, value: unknown, fallback: ErrorAction): ErrorAction {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !ACTIONS.includes(value)) throw invalid(path, `must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as ErrorAction;
}

/** Validates error policy options (STREAM_INVALID_TOPOLOGY naming the path) and fills defaults. */
export function errorPolicy(options: ErrorPolicyOptions = {}): ErrorPolicy {
  const all = action('onError', options.onError, 'fail');
  const deserialization = action('deserialization', options.deserialization, all);
  const processing = action('processing', options.processing, all);
  const dlq = options.deadLetterTopic;
  if (dlq !== undefined && (typeof dlq !== 'string' || dlq.length === 0)) throw invalid('deadLetterTopic', 'must be a non-empty string');
  if ((deserialization === 'dead-letter' || processing === 'dead-letter') && dlq === undefined) {
    throw invalid('deadLetterTopic', "is required when an action is 'dead-letter'");
  }
  return Object.freeze({ deserialization, processing, deadLetterTopic: dlq ?? null });
}
