/** ONNX models served through onnxruntime-node: factory, per-series model, batch scorer. */

export { onnxFactory } from './factory.ts';
export { OnnxDetectorModel, ONNX_KIND } from './model.ts';
export type { OnnxState } from './model.ts';
export { OnnxScorer } from './scorer.ts';
export type { OnnxRows } from './scorer.ts';
export { OnnxSession, ONNX_SESSION_DEFAULTS } from './session.ts';
export type { OnnxSessionOptions } from './session.ts';
export { parseOnnxParams, onnxParamsToJSON, ONNX_PARAM_DEFAULTS } from './params.ts';
export type { OnnxParams } from './params.ts';
export { DEFAULT_SCORE_MAPPING, mapScore, mapScores, parseScoreMapping, ScoreMappingKind } from './mapping.ts';
export type { LinearMapping, LogisticMapping, ScoreMapping } from './mapping.ts';
