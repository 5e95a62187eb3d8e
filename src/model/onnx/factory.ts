/**
 * The `onnx` detector factory: models trained elsewhere (scikit-learn, PyTorch, …) and exported to
 * ONNX, served through onnxruntime-node. `fromParams` takes the `onnx` descriptor's payload (the
 * model bytes) or an object with the bytes and options (see params.ts); it loads the model
 * synchronously in a worker and throws MODEL_ONNX for bytes onnxruntime cannot load and
 * MODEL_FEATURE_MISMATCH when the feature list does not match the model's input width.
 */

import type { DetectorFactory, DetectorModel } from '../types.ts';
import { ErrorCode, SluiceError } from '../../errors.ts';
import { OnnxDetectorModel, ONNX_KIND } from './model.ts';
import { parseOnnxParams } from './params.ts';

/** Builds ONNX-backed detectors; they are never fitted inside Sluice. */
export const onnxFactory: DetectorFactory = {
  kind: ONNX_KIND,
  description: 'A model trained elsewhere and exported to ONNX (e.g. scikit-learn IsolationForest via skl2onnx), run by onnxruntime-node',
  fit(): DetectorModel {
    throw new SluiceError(ErrorCode.MODEL_ONNX, 'onnx models are trained outside Sluice; export one to ONNX and load it with fromParams');
  },
  fromParams(params: unknown, features: readonly string[]): OnnxDetectorModel {
    return OnnxDetectorModel.load(parseOnnxParams(params, features), features);
  },
};
