/**
 * Validation of a `sluice-nab` series state read back from JSON: every field present, every number
 * finite where it must be, every array of the length the parameters imply. Errors name the path.
 */
import { ErrorCode, SluiceError } from '../../../errors.ts';
import type { NabState } from './detector.ts';
import { seasonBuckets } from './feature.ts';
import { scaleContextParams, scaleLikelihoodParams } from './multiscale.ts';
import type { NabParams } from './params.ts';

function fail(path: string, reason: string): never {
  throw new SluiceError(ErrorCode.MODEL_INVALID, `${path} ${reason}`, { details: { path } });
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
  return v as Record<string, unknown>;
}

function num(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${path}/${key}`, 'must be a finite number');
  return v;
}

function nums(o: Record<string, unknown>, key: string, len: number, path: string): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== len) fail(`${path}/${key}`, `must be an array of ${len} numbers`);
  for (const [i, x] of v.entries()) if (typeof x !== 'number' || !Number.isFinite(x)) fail(`${path}/${key}/${i}`, 'must be a finite number');
  return v as number[];
}

function likelihood(v: unknown, short: number, path: string): void {
  const o = obj(v, path);
  nums(o, 'ring', short, path);
  for (const k of ['pos', 'sum', 'mean', 'variance', 'n']) num(o, k, path);
  if (!Number.isInteger(o.pos) || (o.pos as number) < 0 || (o.pos as number) >= short) fail(`${path}/pos`, 'must be an index into ring');
}

function context(v: unknown, order: number, table: number, path: string): void {
  const c = obj(v, path);
  nums(c, 'recent', order, path);
  nums(c, 'pair', table, path);
  nums(c, 'ctx', table, path);
  num(c, 'sinceDecay', path);
}

function list(v: unknown, len: number, what: string, path: string): unknown[] {
  if (!Array.isArray(v) || v.length !== len) fail(path, `must be an array of ${len} ${what}`);
  return v;
}

/** Checks `json` against the shape of {@link NabState}; returns it typed, or throws MODEL_INVALID. */
export function validateState(json: unknown, p: NabParams, features: number): NabState {
  const s = obj(json, 'state');
  num(s, 'n', 'state');
  num(s, 'cool', 'state');
  nums(s, 'last', features, 'state');
  const feats = s.feats;
  if (!Array.isArray(feats) || feats.length !== features) fail('state/feats', `must be an array of ${features} metric states`);
  feats.forEach((f, i) => {
    const path = `state/feats/${i}`;
    const o = obj(f, path);
    for (const k of ['n', 'min', 'max', 'level', 'dev']) num(o, k, path);
    list(o.contexts, p.ensemble, 'context tables', `${path}/contexts`).forEach((t, k) => context(t, p.order, p.table, `${path}/contexts/${k}`));
    likelihood(o.ctxLik, p.short, `${path}/ctxLik`);
    likelihood(o.resLik, p.short, `${path}/resLik`);
    const buckets = seasonBuckets(p);
    nums(o, 'prof', buckets, path);
    nums(o, 'profSeen', buckets, path);
    num(o, 'sdev', path);
    likelihood(o.seaLik, p.short, `${path}/seaLik`);
    list(o.scales, p.scales, 'scale states', `${path}/scales`).forEach((sv, j) => {
      const sp = `${path}/scales/${j}`;
      const sc = obj(sv, sp);
      for (const k of ['sum', 'count', 'p']) num(sc, k, sp);
      const cp = scaleContextParams(p, j);
      list(sc.tables, p.scaleTables, 'context tables', `${sp}/tables`).forEach((t, k) => context(t, p.order, cp.table, `${sp}/tables/${k}`));
      likelihood(sc.lik, scaleLikelihoodParams(p, j).short, `${sp}/lik`);
    });
  });
  return s as unknown as NabState;
}
