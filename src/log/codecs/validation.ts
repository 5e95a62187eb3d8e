/** Validation hooks: a codec that checks a data contract on both sides of the wire. */
import { ErrorCode, SluiceError, isSluiceError } from '../../errors.ts';
import type { Codec } from './codec.ts';

/**
 * Checks a value against a data contract; returns normally when it is valid and throws
 * otherwise, preferably the error of {@link validationError} (which carries the path).
 */
export type Validator<T> = (value: T) => void;

/**
 * The CODEC_VALIDATION error for the field at `path` (e.g. `metrics.temp`), with a message of the
 * form `<path> <reason>` (`metrics.temp must be a finite number, got NaN`).
 */
export function validationError(path: string, reason: string): SluiceError {
  return new SluiceError(ErrorCode.CODEC_VALIDATION, path === '' ? reason : `${path} ${reason}`, {
    details: { path },
  });
}

/**
 * A codec with the same name and bytes as `codec` that runs `validate` before encoding and after
 * decoding. A failed check throws CODEC_VALIDATION whose message starts with the codec name and
 * whose `details` has `codec` and `path` (when the validator gave one); any other error thrown by
 * the validator becomes its `cause`. Decoding errors stay CODEC_DECODE.
 */
export function withValidation<T>(codec: Codec<T>, validate: Validator<T>): Codec<T> {
  const name = codec.name;
  const check = (value: T, when: string): void => {
    try {
      validate(value);
    } catch (error) {
      throw wrap(name, when, error);
    }
  };
  return {
    name,
    encode(value) {
      check(value, 'encode');
      return codec.encode(value);
    },
    decode(bytes) {
      const value = codec.decode(bytes);
      check(value, 'decode');
      return value;
    },
  };
}

function wrap(codec: string, when: string, error: unknown): SluiceError {
  if (isSluiceError(error, ErrorCode.CODEC_VALIDATION)) {
    return new SluiceError(ErrorCode.CODEC_VALIDATION, `${codec} codec: invalid value on ${when}: ${error.message}`, {
      cause: error,
      details: { ...error.details, codec, when },
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new SluiceError(ErrorCode.CODEC_VALIDATION, `${codec} codec: invalid value on ${when}: ${reason}`, {
    cause: error,
    details: { codec, when },
  });
}
