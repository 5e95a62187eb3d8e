/**
 * Codecs of the log layer: pluggable key/value serialisation (`Codec<T>`), the basic codecs,
 * a strict JSON codec, the binary telemetry codec and validation hooks.
 */
export type { Codec, CodecValue } from './codec.ts';
export { encodeError, decodeError } from './codec.ts';
export { bytesCodec, stringCodec } from './basic.ts';
export { jsonCodec, type JsonCodecOptions } from './json.ts';
export { withValidation, validationError, type Validator } from './validation.ts';
export {
  type Telemetry,
  type TelemetryValidationOptions,
  TELEMETRY_LIMITS,
  validateTelemetry,
  telemetryValidator,
} from './telemetry.ts';
export { telemetryCodec, validatedTelemetryCodec, TELEMETRY_MAGIC, TELEMETRY_FORMAT_VERSION } from './telemetry-codec.ts';
