/** Shared fixture loading for the ONNX tests. */

import { readFileSync } from 'node:fs';

/** What scripts/make-onnx-fixture.py recorded next to the model. */
export interface OnnxExpected {
  readonly features: string[];
  readonly inputs: number[][];
  readonly model: { readonly offset_: number };
  readonly sklearn: { readonly score_samples: number[]; readonly decision_function: number[]; readonly predict: number[] };
  readonly onnxruntime_python: { readonly scores: number[]; readonly label: number[] };
}

/** The fixture model's bytes. */
export const modelBytes = new Uint8Array(readFileSync(new URL('../../fixtures/onnx/iforest.onnx', import.meta.url)));

/** The reference outputs. */
export const expected = JSON.parse(
  readFileSync(new URL('../../fixtures/onnx/iforest-expected.json', import.meta.url), 'utf8'),
) as OnnxExpected;
