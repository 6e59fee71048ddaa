"""The live camera's events: privacy masks in every picture that leaves it, rules and masks
changed live without reconnecting, stream health events, and the event ring to pull.

Real footage played in real time (`car-detection.mp4`, looped: the first car passes the
middle of the view 4-9 s in), motion-only analysis (moving regions are the detections).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from cluster.actors.camera import CameraWorker
from cluster.config import CameraConfig
from cluster.domain import CameraState, Event, EventType
from cluster.video.geometry import Polygon
from cluster.video.privacy import MOSTLY_MASKED, MaskCoverage

from .conftest import wait_until

pytestmark = pytest.mark.slow

LEFT = [(0.0, 0.0), (0.4, 0.0), (0.4, 1.0), (0.0, 1.0)]  # the left 40% of the view
EVERYWHERE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
RULES = {
    "zones": [{"name": "view", "polygon": EVERYWHERE, "inertia": 1}],
    "lines": [{"name": "middle", "start": (0.0, 0.5), "end": (1.0, 0.5)}],
}


def road(car_clip: Path, **fields) -> CameraConfig:
    return CameraConfig.model_validate({"id": "road", "source": {"url": str(car_clip), "loop": True}} | fields)


def decoded(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def left_part(image: np.ndarray) -> np.ndarray:
    """The inside of the LEFT mask, a few pixels in from its edge (JPEG blocks blur the edge)."""
    height, width = image.shape[:2]
    return image[4 : height - 4, 4 : int(0.4 * width) - 8]


def all_events(worker: CameraWorker) -> list[Event]:
    return list(worker.pull_events(0, 100_000).events)


def thumbnails(worker: CameraWorker) -> list[bytes]:
    return [e.thumbnail for e in all_events(worker) if e.thumbnail is not None]


def test_a_privacy_mask_is_black_in_snapshots_live_frames_and_thumbnails_and_makes_no_events(
    run_worker, car_clip: Path
) -> None:
    worker = run_worker(road(car_clip, privacy={"masks": [LEFT]}, rules=RULES))
    wait_until(lambda: len(thumbnails(worker)) >= 3, 60, lambda: f"no events with pictures: {worker.status()}")

    snapshot = worker.latest_jpeg(0, timeout_s=10)
    live = worker.latest_jpeg(0, timeout_s=10, max_width=320)
    assert snapshot is not None and live is not None, f"frames: {worker.status()}"
    for name, jpeg in (
        ("snapshot", snapshot.jpeg),
        ("live frame", live.jpeg),
        *(("thumbnail", t) for t in thumbnails(worker)),
    ):
        image = decoded(jpeg)
        assert left_part(image).max() < 40, f"{name}: the masked pixels are black (JPEG noise aside)"
        assert image[:, int(0.6 * image.shape[1]) :].mean() > 50, f"{name}: the rest of the road is visible"

    coverage = MaskCoverage([Polygon.of(LEFT)])
    detections = [d for b in worker.pull_detections(0, 100_000).batches for d in b.detections]
    assert detections, "the cars are detected where they are visible"
    assert all(coverage.covered(d.box) <= MOSTLY_MASKED for d in detections), "nothing mostly masked is published"
    boxes = [e.peak_box for e in all_events(worker) if e.peak_box is not None]
    assert boxes and all(coverage.covered(box) <= MOSTLY_MASKED for box in boxes), "nor made into an event"


def test_rules_and_masks_change_live_without_reconnecting(run_worker, car_clip: Path) -> None:
    worker = run_worker(road(car_clip))
    wait_until(lambda: worker.ring.newest_sequence >= 5, 30, lambda: f"status {worker.status()}")
    before = worker.status()
    assert all(e.rule in ("tamper", "stream") for e in all_events(worker)), "no rules yet, no rule events"
    jpeg = worker.latest_jpeg(0, timeout_s=10)
    assert jpeg is not None and left_part(decoded(jpeg.jpeg)).mean() > 50, "the left of the road is visible"

    worker.update(worker.config.model_copy(update={"rules": road(car_clip, rules=RULES).rules}))
    wait_until(
        lambda: any(e.rule == "view" for e in all_events(worker)), 60, lambda: f"no zone events: {worker.status()}"
    )
    worker.update(worker.config.model_copy(update={"privacy": road(car_clip, privacy={"masks": [LEFT]}).privacy}))
    masked = wait_until(
        lambda: (j := worker.latest_jpeg(0, timeout_s=1)) is not None and left_part(decoded(j.jpeg)).max() < 40 and j,
        30,
        "the mask did not reach the live frames",
    )

    after = worker.status()
    assert after.reconnects == before.reconnects == 0, f"rules and masks are not a source change: {after}"
    assert after.frames_received > before.frames_received and masked.frame_sequence > jpeg.frame_sequence
    assert after.state is CameraState.LIVE


def test_the_event_ring_is_pulled_in_dense_sequence_with_an_epoch(run_worker, car_clip: Path) -> None:
    worker = run_worker(road(car_clip, rules=RULES))
    wait_until(lambda: worker.events.newest_sequence >= 4, 60, lambda: f"no events: {worker.status()}")
    first = worker.pull_events(0, 2)
    second = worker.pull_events(first.last_sequence, 100)
    assert (first.first_sequence, first.last_sequence, second.first_sequence) == (1, 2, 3), "resume after the cursor"
    assert first.epoch == second.epoch == worker.events.epoch
    everything = first.events + second.events
    assert all(e.camera_id == "road" for e in everything)
    starts = [e for e in everything if e.revision == 0]
    assert len({e.event_id for e in starts}) == len(starts), "every start is a new event"


def test_an_unreachable_camera_makes_a_stream_lost_event_that_ends_when_it_stops(run_worker, black_hole) -> None:
    config = CameraConfig.model_validate(
        {
            "id": "gone",
            "source": {"url": black_hole.url("rtsp"), "open_timeout_s": 1, "reconnect": {"initial_s": 0.2}},
            "health": {"stream_lost_after_s": 1.0},
        }
    )
    worker = run_worker(config)
    lost = wait_until(
        lambda: [e for e in all_events(worker) if e.type is EventType.STREAM_LOST], 30, lambda: f"{worker.status()}"
    )
    assert lost[0].ongoing and lost[0].rule == "stream" and lost[0].severity.value == "alert", f"{lost}"
    worker.stop()
    revisions = [e for e in all_events(worker) if e.event_id == lost[0].event_id]
    assert [(e.revision, e.ongoing) for e in revisions] == [(0, True), (1, False)], "stopping ends the event"


@pytest.mark.rtsp
def test_a_stalling_rtsp_stream_makes_a_stream_stalled_event_with_its_end(run_worker, rtsp_server) -> None:
    config = CameraConfig.model_validate(
        {
            "id": "stalling",
            "source": {"url": rtsp_server.url("/stall"), "stall_timeout_s": 1.0, "reconnect": {"initial_s": 1.0}},
            "health": {"stream_lost_after_s": 0.5},
        }
    )
    worker = run_worker(config)

    def ended_stall() -> list[Event]:
        return [e for e in all_events(worker) if e.type is EventType.STREAM_STALLED and not e.ongoing]

    ended = wait_until(ended_stall, 60, lambda: f"no stall that ended: {all_events(worker)}; {worker.status()}")
    start = next(e for e in all_events(worker) if e.event_id == ended[0].event_id and e.revision == 0)
    assert ended[0].end_time is not None and ended[0].end_time > start.start_time, "ends when frames came back"
