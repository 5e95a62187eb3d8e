/**
 * Typed arrays as JSON: base64 of the little-endian bytes, so that parameters and states survive
 * JSON.stringify/parse bit for bit and stay compact (a Float64Array element costs 10.7 characters
 * instead of up to 24 as a decimal number).
 */
import { invalid } from './params.ts';

/** Constructors of the typed arrays this module encodes. */
type TypedCtor = Float64ArrayConstructor | Int32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Encodes a typed array as base64 of its little-endian bytes. */
export function encodeTyped(array: Float64Array | Int32Array | Uint16Array | Uint8Array): string {
  const bytes = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  if (littleEndian || array.BYTES_PER_ELEMENT === 1) return bytes.toString('base64');
  const copy = Buffer.from(bytes);
  if (array.BYTES_PER_ELEMENT === 2) copy.swap16();
  else if (array.BYTES_PER_ELEMENT === 4) copy.swap32();
  else copy.swap64();
  return copy.toString('base64');
}

/**
 * Decodes base64 written by {@link encodeTyped} into a new array of `ctor` with exactly `length`
 * elements; throws MODEL_INVALID naming `path` otherwise.
 */
export function decodeTyped<C extends TypedCtor>(kind: string, path: string, value: unknown, ctor: C, length: number): InstanceType<C> {
  if (typeof value !== 'string') throw invalid(kind, path, 'must be a base64 string');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw invalid(kind, path, 'is not valid base64');
  const bytes = Buffer.from(value, 'base64');
  const size = ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== length * size) throw invalid(kind, path, `must hold ${length} elements of ${size} bytes, got ${bytes.byteLength} bytes`);
  if (!littleEndian && size > 1) {
    if (size === 2) bytes.swap16();
    else if (size === 4) bytes.swap32();
    else bytes.swap64();
  }
  const out = new ctor(length) as InstanceType<C>;
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Decodes a Float64Array and checks every element is finite. */
export function decodeFinite(kind: string, path: string, value: unknown, length: number): Float64Array {
  const out = decodeTyped(kind, path, value, Float64Array, length);
  for (let i = 0; i < length; i++) if (!Number.isFinite(out[i]!)) throw invalid(kind, `${path}[${i}]`, 'must be finite');
  return out;
}
