/**
 * Sluice as a library: the log API and its backends, codecs, and the typed errors. Later layers
 * (stream processing, models, serving) are exported here as they land.
 */
export * from './errors.ts';
export * from './log/index.ts';
