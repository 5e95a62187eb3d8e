#!/usr/bin/env python3
"""Makes the ONNX test fixture: a small scikit-learn IsolationForest exported with skl2onnx.

Writes test/fixtures/onnx/iforest.onnx and test/fixtures/onnx/iforest-expected.json (a fixed input
with scikit-learn's and onnxruntime-python's outputs for it), which test/model/onnx/ checks Sluice
against (raw outputs to 1e-5).

How to run (from the repo root; the packages come from PyPI into a throwaway venv, not the repo):

    python3 -m venv /tmp/onnxvenv
    /tmp/onnxvenv/bin/pip install scikit-learn skl2onnx onnxruntime
    /tmp/onnxvenv/bin/python scripts/make-onnx-fixture.py

Everything is seeded, so reruns with the same library versions give the same files (the versions
used are recorded in the JSON). Opsets are pinned to what onnxruntime-node 1.30 supports.
"""

import json
import os
import sys

import numpy as np
import onnxruntime as ort
import onnx
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import IsolationForest

SEED = 20240611
FEATURES = ["temperature", "vibration", "current"]
N_TREES = 8
MAX_SAMPLES = 64
OPSETS = {"": 17, "ai.onnx.ml": 3}
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "onnx")


def f32(a):
    """Rounds to float32, the precision both scikit-learn's trees and the ONNX model read."""
    return np.asarray(a, dtype=np.float32)


def main():
    rng = np.random.default_rng(SEED)
    # Training data: correlated telemetry around an operating point.
    n = 1000
    temperature = rng.normal(60.0, 2.0, n)
    vibration = rng.normal(0.5, 0.05, n) + 0.01 * (temperature - 60.0)
    current = rng.normal(10.0, 0.5, n) + 0.2 * (temperature - 60.0)
    train = f32(np.column_stack([temperature, vibration, current]))

    model = IsolationForest(n_estimators=N_TREES, max_samples=MAX_SAMPLES, contamination="auto", random_state=SEED)
    model.fit(train)

    # Fixed input: 24 inliers drawn like the training data, then 8 hand-made anomalies.
    inl = rng.normal(0.0, 1.0, (24, 3)) * [2.0, 0.05, 0.5] + [60.0, 0.5, 10.0]
    anomalies = [
        [75.0, 0.5, 10.0], [60.0, 1.2, 10.0], [60.0, 0.5, 16.0], [45.0, 0.2, 5.0],
        [66.0, 0.45, 8.5], [58.0, 0.62, 11.4], [90.0, 2.0, 30.0], [0.0, 0.0, 0.0],
    ]
    inputs = f32(np.vstack([inl, anomalies]))

    onx = to_onnx(model, inputs[:1], initial_types=[("X", FloatTensorType([None, len(FEATURES)]))],
                  target_opset=OPSETS)
    onx.doc_string = "Sluice test fixture: scikit-learn IsolationForest (scripts/make-onnx-fixture.py)"
    path = os.path.join(OUT_DIR, "iforest.onnx")
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(path, "wb") as f:
        f.write(onx.SerializeToString())

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    outs = dict(zip(out_names, sess.run(None, {"X": inputs})))

    score_samples = model.score_samples(inputs)
    decision = model.decision_function(inputs)
    ort_scores = outs["scores"].reshape(-1).astype(np.float64)
    worst = float(np.max(np.abs(ort_scores - decision)))
    if worst > 1e-5:
        sys.exit(f"onnxruntime differs from scikit-learn by {worst}")

    expected = {
        "about": "Made by scripts/make-onnx-fixture.py; inputs are float32 values written exactly.",
        "versions": {"sklearn": sklearn.__version__, "skl2onnx": skl2onnx.__version__,
                     "onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__},
        "opsets": OPSETS,
        "model": {"type": "IsolationForest", "n_estimators": N_TREES, "max_samples": MAX_SAMPLES, "contamination": "auto",
                  "random_state": SEED, "offset_": float(model.offset_), "training_rows": n},
        "features": FEATURES,
        "input_name": "X",
        "output_names": out_names,
        "inputs": [[float(v) for v in row] for row in inputs],
        "sklearn": {
            "score_samples": [float(v) for v in score_samples],
            "decision_function": [float(v) for v in decision],
            "predict": [int(v) for v in model.predict(inputs)],
        },
        "onnxruntime_python": {
            "label": [int(v) for v in outs["label"].reshape(-1)],
            "scores": [float(v) for v in ort_scores],
        },
        "max_abs_diff_onnxruntime_vs_sklearn": worst,
    }
    with open(os.path.join(OUT_DIR, "iforest-expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes); max |ort - sklearn| = {worst:.3g}")


if __name__ == "__main__":
    main()
