"""The Darknet detector on real footage (Yolo-Fastest-1.1-xl on the parking-lot clip)
and the errors a bad model setup gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from cluster.config import DetectorConfig
from cluster.domain import Detection
from cluster.video.pipeline import ModelError, load_detector


@pytest.fixture(scope="module")
def detections_per_frame(
    parking_lot_frames: list[np.ndarray], xl_config: DetectorConfig
) -> list[tuple[Detection, ...]]:
    detector = load_detector(xl_config)
    return [detector.detect(frame) for frame in parking_lot_frames]


def share_of_frames_with(detections_per_frame: list[tuple[Detection, ...]], class_name: str) -> float:
    hits = sum(any(d.class_name == class_name for d in frame) for frame in detections_per_frame)
    return hits / len(detections_per_frame)


# Measured with letterbox at 416, conf 0.25, per-class NMS: car 83%, person 29% of the 41 frames.
def test_car_is_found_in_most_frames(detections_per_frame: list[tuple[Detection, ...]]) -> None:
    share = share_of_frames_with(detections_per_frame, "car")
    assert share >= 0.5, f"car found in only {share:.0%} of frames (measured 83%)"


def test_person_is_found_in_some_frames(detections_per_frame: list[tuple[Detection, ...]]) -> None:
    share = share_of_frames_with(detections_per_frame, "person")
    assert share >= 0.15, f"person found in only {share:.0%} of frames (measured 29%)"


def test_detections_are_normalised_untracked_and_above_threshold(
    detections_per_frame: list[tuple[Detection, ...]],
) -> None:
    every = [d for frame in detections_per_frame for d in frame]
    assert every, "the clip should give some detections"
    for d in every:
        box = d.box
        assert box.x >= 0.0 and box.y >= 0.0 and box.w > 0 and box.h > 0, f"bad box {box}"
        assert box.x + box.w <= 1.0 + 1e-9 and box.y + box.h <= 1.0 + 1e-9, f"box leaves the frame: {box}"
        assert d.confidence >= 0.25, f"{d} is below the confidence threshold"
        assert d.track_id is None, f"the detector must not assign track ids: {d}"


def test_car_box_lies_in_the_lower_left_where_the_car_starts(
    detections_per_frame: list[tuple[Detection, ...]],
) -> None:
    # In frame 0 the car is parked bottom-left (x 0.1..0.35, y 0.55..1.0 of the frame):
    # checks the letterbox is undone, not just that some box exists.
    cars = [d for d in detections_per_frame[0] if d.class_name == "car"]
    assert cars, "the car of frame 0 should be detected"
    cx, cy = cars[0].box.center
    assert 0.1 < cx < 0.4 and 0.55 < cy < 0.95, f"car centre {cx:.2f},{cy:.2f} is not where the car is"


def test_class_filter_returns_only_cars(parking_lot_frames: list[np.ndarray], xl_config: DetectorConfig) -> None:
    detector = load_detector(xl_config.model_copy(update={"classes": ["car"]}))
    found = [d for frame in parking_lot_frames[::4] for d in detector.detect(frame)]
    assert found, "cars should still be found with the filter on"
    assert {d.class_name for d in found} == {"car"}, f"filter leaked: {sorted({d.class_name for d in found})}"


def test_unknown_class_in_filter_is_named(xl_config: DetectorConfig) -> None:
    with pytest.raises(ModelError, match="'unicorn'"):
        load_detector(xl_config.model_copy(update={"classes": ["car", "unicorn"]}))


def test_missing_model_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.cfg"
    with pytest.raises(ModelError, match=f"model file {missing} does not exist"):
        load_detector(DetectorConfig(model=missing))


def test_missing_weights_are_named(tmp_path: Path, models: Path) -> None:
    cfg = tmp_path / "yolo-fastest-1.1.cfg"
    shutil.copy(models / "yolo-fastest-1.1.cfg", cfg)
    shutil.copy(models / "coco.names", tmp_path / "coco.names")
    with pytest.raises(ModelError, match=f"weights file {tmp_path / 'yolo-fastest-1.1.weights'} does not exist"):
        load_detector(DetectorConfig(model=cfg))


def test_random_bytes_as_weights_are_refused(tmp_path: Path, models: Path) -> None:
    # OpenCV itself loads these without complaint and would detect garbage.
    weights = tmp_path / "random.weights"
    weights.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    config = DetectorConfig(model=models / "yolo-fastest-1.1.cfg", weights=weights)
    with pytest.raises(ModelError, match=f"weights file {weights} does not fit its cfg"):
        load_detector(config)


def test_weights_of_another_model_are_refused(models: Path) -> None:
    config = DetectorConfig(model=models / "yolo-fastest-1.1-xl.cfg", weights=models / "yolo-fastest-1.1.weights")
    with pytest.raises(ModelError, match="does not fit its cfg"):
        load_detector(config)


def test_text_file_as_cfg_is_named(tmp_path: Path, models: Path) -> None:
    cfg = tmp_path / "notes.cfg"
    cfg.write_text("these are my notes, not a network\n")
    config = DetectorConfig(model=cfg, weights=models / "yolo-fastest-1.1.weights", names=models / "coco.names")
    with pytest.raises(ModelError, match=f"{cfg} with weights .* is not a usable Darknet model"):
        load_detector(config)


def test_text_file_as_onnx_is_named(tmp_path: Path, models: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_text("not protobuf at all")
    with pytest.raises(ModelError, match=f"{model} is not a usable ONNX model"):
        load_detector(DetectorConfig(model=model, names=models / "coco.names"))


def test_names_file_with_wrong_class_count_is_refused(tmp_path: Path, models: Path) -> None:
    names = tmp_path / "three.names"
    names.write_text("person\nbicycle\ncar\n")
    config = DetectorConfig(model=models / "yolo-fastest-1.1.cfg", names=names)
    with pytest.raises(ModelError, match=r"lists 3 classes but model .* outputs 80"):
        load_detector(config)


def test_missing_names_file_is_named(tmp_path: Path, models: Path) -> None:
    names = tmp_path / "absent.names"
    with pytest.raises(ModelError, match=f"class names file {names} does not exist"):
        load_detector(DetectorConfig(model=models / "yolo-fastest-1.1.cfg", names=names))


def test_unknown_model_extension_asks_for_format(tmp_path: Path) -> None:
    model = tmp_path / "model.pt"
    model.write_bytes(b"\x00" * 16)
    with pytest.raises(ModelError, match=r"cannot tell the format of model file .*model.pt"):
        load_detector(DetectorConfig(model=model))


def test_model_error_is_a_value_error() -> None:
    assert issubclass(ModelError, ValueError), "callers catch configuration problems as ValueError"
