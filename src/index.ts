/**
 * Sluice as a library: the typed errors, the log API with its backends and codecs. The stream
 * layer and the models have entry points of their own (`sluice/stream`, `sluice/model`), so that
 * a program that only needs the log doesn't load them.
 */
export * from './errors.ts';
export * from './log/index.ts';
