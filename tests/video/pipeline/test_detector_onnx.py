"""ONNX YOLO decoding through cv2.dnn for real, on tiny generated models.

No YOLO export can be downloaded here, so each test builds an ONNX graph whose
output is a constant tensor in the YOLOv5 (1, N, 5 + C) or YOLOv8 (1, 4 + C, N)
layout, encoding known candidate boxes. The image input is consumed
(ReduceMean * 0 + constant) so OpenCV keeps it as the network input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx  # the test extra: builds the models
import pytest
from onnx import TensorProto, helper, numpy_helper

from cluster.config import DetectorConfig
from cluster.video.pipeline import ModelError, load_detector

INPUT = 64  # network input side
CLASS_NAMES = ("alpha", "beta", "gamma")
# The frame is 128x64: letterboxed at scale 0.5 into 64x32, padded 16 rows on top.
FRAME = np.zeros((64, 128, 3), dtype=np.uint8)
# Candidate box in input pixels, centred (32, 32), 32x16 -> frame (32..96, 16..48) of 128x64.
CX, CY, W, H = 32.0, 32.0, 32.0, 16.0
EXPECTED_BOX = (0.25, 0.25, 0.5, 0.5)

# (objectness, class probabilities) per candidate; v8 uses objectness * probability.
CANDIDATES = [
    (0.9, (0.1, 0.8, 0.0)),  # beta 0.72: kept
    (0.9, (0.0, 0.5, 0.0)),  # beta 0.45 on the same box: suppressed by NMS
    (1.0, (0.0, 0.0, 0.6)),  # gamma 0.60 on the same box: kept (NMS is per class)
    (0.3, (0.5, 0.0, 0.0)),  # alpha 0.15: below the 0.25 threshold
]
EXPECTED = [("beta", 0.72), ("gamma", 0.60)]


def v5_output() -> np.ndarray:
    rows = [[CX, CY, W, H, obj, *probs] for obj, probs in CANDIDATES]
    return np.array([rows], dtype=np.float32)  # (1, N, 5 + C)


def v8_output() -> np.ndarray:
    rows = [[CX, CY, W, H, *(obj * p for p in probs)] for obj, probs in CANDIDATES]
    return np.array([rows], dtype=np.float32).transpose(0, 2, 1).copy()  # (1, 4 + C, N)


def write_constant_model(path: Path, output: np.ndarray) -> Path:
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, INPUT, INPUT])
    result = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["zeroed"]),
        helper.make_node("Add", ["zeroed", "candidates"], ["output0"]),
    ]
    initializers = [
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        numpy_helper.from_array(output, "candidates"),
    ]
    graph = helper.make_graph(nodes, "constant-yolo", [image], [result], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def write_names(path: Path, names: tuple[str, ...] = CLASS_NAMES) -> Path:
    path.write_text("\n".join(names) + "\n")
    return path


def config_for(tmp_path: Path, output: np.ndarray, **changes: object) -> DetectorConfig:
    model = write_constant_model(tmp_path / "model.onnx", output)
    names = write_names(tmp_path / "classes.names")
    return DetectorConfig(model=model, names=names, input_size=INPUT, confidence=0.25, nms=0.45, **changes)


@pytest.mark.parametrize(("output", "layout"), [(v5_output(), "yolov5"), (v8_output(), "yolov8")])
def test_layout_is_detected_from_the_output_shape(tmp_path: Path, output: np.ndarray, layout: str) -> None:
    detector = load_detector(config_for(tmp_path, output))
    assert detector.layout == layout, f"output {output.shape} detected as {detector.layout}"


@pytest.mark.parametrize("output", [v5_output(), v8_output()], ids=["yolov5", "yolov8"])
def test_known_boxes_are_decoded(tmp_path: Path, output: np.ndarray) -> None:
    detections = load_detector(config_for(tmp_path, output)).detect(FRAME)
    found = [(d.class_name, round(d.confidence, 2)) for d in detections]
    assert found == EXPECTED, f"expected {EXPECTED} after threshold and per-class NMS, got {found}"
    for d in detections:
        got = (d.box.x, d.box.y, d.box.w, d.box.h)
        assert np.allclose(got, EXPECTED_BOX, atol=1e-4), f"{d.class_name} box {got}, expected {EXPECTED_BOX}"


def test_explicit_layout_is_used(tmp_path: Path) -> None:
    detector = load_detector(config_for(tmp_path, v8_output(), onnx_layout="yolov8"))
    assert [d.class_name for d in detector.detect(FRAME)] == ["beta", "gamma"]


def test_class_filter_applies_to_onnx(tmp_path: Path) -> None:
    detector = load_detector(config_for(tmp_path, v5_output(), classes=["gamma"]))
    assert [d.class_name for d in detector.detect(FRAME)] == ["gamma"]


def test_wrong_explicit_layout_is_a_class_count_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="lists 3 classes but the yolov8 output shape"):
        load_detector(config_for(tmp_path, v5_output(), onnx_layout="yolov8"))


def test_names_file_that_fits_neither_layout_is_refused(tmp_path: Path) -> None:
    config = config_for(tmp_path, v5_output())
    config.names = write_names(tmp_path / "four.names", (*CLASS_NAMES, "delta"))
    with pytest.raises(ModelError, match=r"matches neither yolov5 \(1, N, 9\) nor yolov8 \(1, 8, N\)"):
        load_detector(config)
