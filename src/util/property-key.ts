/**
 * `name` as an engine property key: the same string, but the copy V8 keeps in its table of
 * property names. A string built at run time (decoded from bytes, parsed from JSON) is not in it,
 * and every keyed load or store under such a string first looks it up there: about three times
 * slower than under the table's copy. Intern names once where they are made, for hot paths.
 */
export function propertyKey(name: string): string {
  return Object.keys({ [name]: 0 })[0]!;
}
