/** True for a non-null, non-array object (a record of named fields, as far as `typeof` can tell). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
