/**
 * The model layer's public face: contracts, the descriptor (create, parse, load), the model store,
 * the detector registry and detectors, the post-processor, and evaluation.
 */
export type * from './types.ts';
export * from './descriptor.ts';
export * from './descriptor-create.ts';
export {
  checkDescriptorStructure,
  parseDescriptor,
  type DetectorRegistry,
  type ParseDescriptorOptions,
} from './descriptor-parse.ts';
export * from './descriptor-load.ts';
export * from './descriptor-holder.ts';
export * from './models-topic.ts';
export * from './store.ts';
export * from './registry.ts';
export {
  DECIDER_DEFAULTS,
  createDecider,
  deciderFromJSON,
  logLikelihood,
  type Decider,
  type DeciderOptions,
} from './postprocess.ts';
export { robustZScore, ROBUST_ZSCORE_DEFAULTS, type RobustZScoreHyperparameters } from './detectors/robust-zscore.ts';
export { halfSpaceTrees, HALF_SPACE_TREES_DEFAULTS, type HalfSpaceTreesHyperparameters } from './detectors/half-space-trees.ts';
export { isolationForest, ISOLATION_FOREST_DEFAULTS, type IsolationForestHyperparameters } from './detectors/isolation-forest.ts';
export { nabDetectorFactory } from './detectors/nab/index.ts';
export * from './onnx/index.ts';
export * from './eval/index.ts';
