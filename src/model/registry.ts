/**
 * The detector registry: every detector kind this build knows, by name. Descriptors are loaded
 * through it (a `native` descriptor by its `kind`; an `onnx` one by the factory registered under
 * kind `onnx`, when the ONNX adapter is present), and the CLI lists and picks detectors from it.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import { halfSpaceTrees } from './detectors/half-space-trees.ts';
import { isolationForest } from './detectors/isolation-forest.ts';
import { nabDetectorFactory } from './detectors/nab/index.ts';
import { robustZScore } from './detectors/robust-zscore.ts';
import { onnxFactory } from './onnx/factory.ts';
import type { DetectorFactory } from './types.ts';

/**
 * A registry from a list of factories, keyed by their `kind`; INVALID_ARGUMENT on a duplicate or
 * empty kind. Use it to build a registry with extra (or fewer) factories than the default.
 */
export function createRegistry(factories: readonly DetectorFactory[]): ReadonlyMap<string, DetectorFactory> {
  const map = new Map<string, DetectorFactory>();
  for (const [i, f] of factories.entries()) {
    if (typeof f?.kind !== 'string' || f.kind === '') {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `factories[${i}].kind must be a non-empty string`);
    }
    if (map.has(f.kind)) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `factories[${i}]: kind '${f.kind}' is registered twice`);
    map.set(f.kind, f);
  }
  return map;
}

/**
 * Every detector factory of this build, by kind; `onnx` loads onnx-format descriptors (its runtime is
 * only started when such a model is loaded).
 */
export const detectorFactories: ReadonlyMap<string, DetectorFactory> = createRegistry([
  robustZScore,
  halfSpaceTrees,
  isolationForest,
  nabDetectorFactory,
  onnxFactory,
]);

/** The detector used when none is named: the one aimed at the top of the NAB scoreboard. */
export const DEFAULT_DETECTOR: string = nabDetectorFactory.kind;

/** The factory for `name`; MODEL_UNKNOWN_KIND listing the known names when there is none. */
export function getDetectorFactory(name: string, registry: ReadonlyMap<string, DetectorFactory> = detectorFactories): DetectorFactory {
  const factory = registry.get(name);
  if (factory === undefined) {
    const known = [...registry.keys()].sort();
    throw new SluiceError(ErrorCode.MODEL_UNKNOWN_KIND, `unknown detector '${name}'; known detectors: ${known.join(', ') || '(none)'}`, {
      details: { kind: name, known },
    });
  }
  return factory;
}

/** Names of the registered detectors, sorted. */
export function detectorNames(registry: ReadonlyMap<string, DetectorFactory> = detectorFactories): string[] {
  return [...registry.keys()].sort();
}
