"""Real recorded footage for the player's tests: the shared car clip through the real
source and `RecordingSession` (tests/recordings/footage.py), as camera `cam-a`, with the
camera's stream down for a while in between (a gap on the chain, with its reason).

    T0 .. T0+10 s          recorded (first pass)
    T0+10 s .. T0+22.5 s   gap: "camera stream down: ..."
    T0+22.5 s .. T0+32.5 s recorded (second pass)
"""

from __future__ import annotations

from pathlib import Path

from cluster.config import CameraConfig
from tests.recordings.footage import T0, play, recording_session

PASS_S = 10.0
SECOND_OFFSET_S = 22.5  # the stream is back this long after the first pass started
FIRST_END = T0 + PASS_S
SECOND_START = T0 + SECOND_OFFSET_S
SECOND_END = SECOND_START + PASS_S
# Top-left quarter of the picture: black in every frame a browser may get.
MASK = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]

__all__ = [
    "FIRST_END",
    "MASK",
    "PASS_S",
    "SECOND_END",
    "SECOND_OFFSET_S",
    "SECOND_START",
    "T0",
    "record_with_gap",
    "recorded_camera",
]


def record_with_gap(root: Path, clip: Path, camera_id: str = "cam-a", *, start: float = T0) -> Path:
    """Record the two passes (from `start`) under `root/<camera_id>`; returns that directory."""
    session = recording_session(root, camera_id, start=start, segment_s=4.0)
    play(session, clip, start=start, seconds=PASS_S)
    session.clock["now"] = start + SECOND_OFFSET_S  # type: ignore[attr-defined]
    last = play(session, clip, start=start + SECOND_OFFSET_S, seconds=PASS_S)
    session.close(last)
    return root / camera_id


def recorded_camera(
    camera_id: str, groups: tuple[str, ...], root: Path, *, masks: list | None = None, **extra: object
) -> CameraConfig:
    """A camera whose recordings are under `root` (its `recording.directory`)."""
    return CameraConfig.model_validate(
        {
            "id": camera_id,
            "name": f"Camera {camera_id}",
            "groups": list(groups),
            "source": {"url": f"rtsp://user:secret@cams.local/{camera_id}"},
            "recording": {"directory": str(root)},
            "privacy": {"masks": masks or []},
            **extra,
        }
    )
