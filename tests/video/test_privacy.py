"""Privacy masks: hidden pixels at the frame hook, masked detections dropped, no events of
a masked area (on the parking-lot footage with the real detector)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from cluster.config import CameraConfig, PrivacyConfig, SourceConfig
from cluster.domain import Box, Detection, EventType, Frame
from cluster.video.frame_hook import frame_hook_for
from cluster.video.geometry import Polygon
from cluster.video.privacy import MaskCoverage, PrivacyHook

LEFT_HALF = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]


def striped_frame(width: int = 200, height: int = 100) -> Frame:
    image = np.zeros((height, width, 3), np.uint8)
    image[:, ::2] = (200, 150, 100)  # fine vertical stripes: pixelation must blur them away
    image[:, 1::2] = (40, 60, 80)
    return Frame(sequence=1, capture_time=0.0, image=image, pts=0.0)


def test_black_mode_blacks_out_the_masks_and_nothing_else() -> None:
    frame = PrivacyHook(PrivacyConfig(masks=[LEFT_HALF])).apply(striped_frame())
    assert not frame.image[:, :100].any(), "every pixel of the mask is black"
    assert frame.image[:, 101:].any(axis=2).all(), "the rest of the view is untouched"


def test_pixelate_mode_shows_only_coarse_blocks() -> None:
    original = striped_frame()
    frame = PrivacyHook(PrivacyConfig(masks=[LEFT_HALF], mode="pixelate", pixelate_cells=10)).apply(striped_frame())
    block = frame.image[:20, :20]  # 200 px / 10 cells: 20 px blocks
    assert (block == block[0, 0]).all(), "one colour per block: the stripes are gone"
    assert 40 < int(block[0, 0, 0]) < 200, "the block is the stripes' average, not black"
    assert np.array_equal(frame.image[:, 101:], original.image[:, 101:]), "the rest of the view is untouched"


def test_a_camera_with_masks_gets_the_privacy_hook() -> None:
    camera = CameraConfig(id="cam", source=SourceConfig(url="/x.mp4"), privacy=PrivacyConfig(masks=[LEFT_HALF]))
    assert isinstance(frame_hook_for(camera), PrivacyHook)


@pytest.mark.parametrize(
    "box, covered",
    [
        (Box(0.1, 0.1, 0.2, 0.2), 1.0),  # inside the left half
        (Box(0.6, 0.1, 0.2, 0.2), 0.0),  # outside
        (Box(0.4, 0.1, 0.2, 0.2), 0.5),  # straddling the edge
        (Box(0.3, 0.1, 0.3, 0.2), 2 / 3),
    ],
)
def test_coverage_is_the_masked_share_of_a_box(box: Box, covered: float) -> None:
    coverage = MaskCoverage([Polygon.of(LEFT_HALF)])
    assert coverage.covered(box) == pytest.approx(covered, abs=0.02)


def test_detections_mostly_inside_a_mask_are_dropped() -> None:
    coverage = MaskCoverage([Polygon.of(LEFT_HALF)])
    inside = Detection(0, "person", 0.9, Box(0.1, 0.1, 0.2, 0.2))
    mostly_outside = Detection(0, "person", 0.9, Box(0.45, 0.1, 0.2, 0.2))
    assert coverage.visible([inside, mostly_outside]) == (mostly_outside,)


@pytest.mark.slow
def test_no_detection_or_event_of_a_masked_area_and_its_pixels_are_black(parking_lot_clip: Path, models: Path):
    from cluster.video.file_driver import analyse_camera_file

    walker_area = [(0.25, 0.0), (0.45, 0.0), (0.45, 0.25), (0.25, 0.25)]  # where the person walks off the top
    base = {
        "id": "parking",
        "source": {"url": str(parking_lot_clip)},
        "analysis": {
            "fps": 12.5,
            "motion": {"gate_detector": False},
            "detector": {"model": str(models / "yolo-fastest-1.1-xl.cfg"), "input_size": 416, "max_fps": 12.5},
            "tracker": {"max_age_s": 1.0},
        },
        "rules": {"zones": [{"name": "all", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "inertia": 1}]},
    }
    open_view = CameraConfig.model_validate(base)
    masked = CameraConfig.model_validate(base | {"privacy": {"masks": [walker_area]}})

    def in_area(box: Box) -> bool:
        x, y = box.center
        return 0.25 <= x <= 0.45 and y <= 0.25

    plain = list(analyse_camera_file(open_view))
    assert any(in_area(d.box) for _, r in plain for d in r.detections), "without the mask the walker is detected"
    assert any(e.type is EventType.ZONE_ENTER and in_area(e.peak_box) for _, r in plain for e in r.events if e.peak_box)

    hidden = list(analyse_camera_file(masked))
    detections = [d for _, result in hidden for d in result.detections]
    events = [e for _, result in hidden for e in result.events]
    assert detections and not any(in_area(d.box) for d in detections), "nothing in the mask is published"
    assert not any(e.peak_box is not None and in_area(e.peak_box) for e in events), "nothing in the mask is an event"
    height, width = hidden[0][0].image.shape[:2]
    for frame, _ in hidden:
        region = frame.image[1 : int(0.25 * height) - 1, int(0.25 * width) + 1 : int(0.45 * width) - 1]
        assert not region.any(), f"frame {frame.sequence}: the masked pixels are black"
    thumbnails = [e.thumbnail for e in events if e.thumbnail is not None]
    assert thumbnails, "events come with thumbnails"
    for jpeg in thumbnails:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        h, w = image.shape[:2]
        region = image[2 : int(0.25 * h) - 2, int(0.25 * w) + 2 : int(0.45 * w) - 2]
        assert region.max() < 40, f"the mask is black in thumbnails too (JPEG noise aside): max {region.max()}"
