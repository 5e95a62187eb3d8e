/**
 * Which series train which model. Model names follow the serving contract: `device.<deviceId>`
 * (per device), `class.<class>` (per device class, the tag `class` unless configured), `default`
 * (the fleet). Serving scores a record with the most specific live model of those three.
 */
import { GroupBy } from './options.ts';
import type { SeriesColumns } from './sampler.ts';

/** The series one model is trained on. */
export interface ModelGroup {
  readonly name: string;
  readonly series: readonly SeriesColumns[];
  /** Records of all its series. */
  readonly records: number;
}

/** Series left out of every model, and why. */
export interface SkippedGroup {
  /** The model name it would have had, or a description (`(no class tag)`). */
  readonly name: string;
  readonly devices: number;
  readonly records: number;
  readonly reason: string;
}

/** The fleet model's name. */
export const FLEET_MODEL = 'default';

const MODEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

/** The model name of a device (`device.<id>`) or class (`class.<name>`) per the contract. */
export function modelNameFor(per: GroupBy, key: string): string {
  if (per === GroupBy.FLEET) return FLEET_MODEL;
  return `${per === GroupBy.DEVICE ? 'device' : 'class'}.${key}`;
}

/**
 * Groups `series` by `per`; a group with fewer than `minRecords` records, a device without the
 * class tag (per class) and a device or class whose name cannot form a model name are skipped with
 * the reason. Groups come sorted by name.
 */
export function groupSeries(series: readonly SeriesColumns[], per: GroupBy, classTag: string, minRecords: number): { groups: ModelGroup[]; skipped: SkippedGroup[] } {
  const byName = new Map<string, SeriesColumns[]>();
  const skipped: SkippedGroup[] = [];
  const unclassified: SeriesColumns[] = [];
  for (const s of series) {
    if (per === GroupBy.CLASS && s.className === null) {
      unclassified.push(s);
      continue;
    }
    const name = modelNameFor(per, per === GroupBy.CLASS ? s.className! : s.deviceId);
    const list = byName.get(name) ?? [];
    list.push(s);
    byName.set(name, list);
  }
  if (unclassified.length > 0) {
    skipped.push({ name: `(no ${classTag} tag)`, devices: unclassified.length, records: countRecords(unclassified), reason: `devices without the tag '${classTag}' train no class model` });
  }
  const groups: ModelGroup[] = [];
  for (const [name, list] of [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const records = countRecords(list);
    if (!MODEL_NAME.test(name)) {
      skipped.push({ name, devices: list.length, records, reason: 'not a valid model name (1-128 characters of a-z A-Z 0-9 . _ -, not starting with . _ -)' });
    } else if (records < minRecords) {
      skipped.push({ name, devices: list.length, records, reason: `${records} records, fewer than the ${minRecords} needed to fit and evaluate` });
    } else groups.push({ name, series: list, records });
  }
  return { groups, skipped };
}

function countRecords(list: readonly SeriesColumns[]): number {
  let n = 0;
  for (const s of list) n += s.ts.length;
  return n;
}
