"""What a camera's analysis makes of one frame, and the pull of the event revisions it
published (beside `detections.py`, because events refer to boxes and results to both)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .detections import Detection
from .events import Event


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """What the pipeline made of one frame.

    `events` are the event revisions this frame produced (a start, an update, an
    end), in the order they happened; most frames have none.
    """

    detections: tuple[Detection, ...]
    motion: bool  # motion above the configured minimum area
    motion_ratio: float  # fraction of the (unmasked) frame that moved
    detector_ran: bool
    stage_seconds: dict[str, float] = field(default_factory=dict)  # per-stage wall time
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class EventPull:
    """Answer of a pull of a camera's event revisions (`CameraWorker.pull_events`).

    `events` are the revisions with sequence > the requested one, oldest first;
    sequences are dense, so `events[i]` has sequence `first_sequence + i`, and the
    cursor to store after handling them is `last_sequence`. `oldest_sequence` is the
    oldest revision still held: a reader whose `after + 1 < oldest_sequence` lost
    revisions. `epoch` names the ring: a camera actor that restarted starts a new
    ring (new epoch, sequences from 1 again), so a reader whose stored cursor has
    another epoch starts from 0.
    """

    camera_id: str
    epoch: str
    events: tuple[Event, ...]
    first_sequence: int
    oldest_sequence: int
    newest_sequence: int

    @property
    def last_sequence(self) -> int:
        """Sequence of the last revision returned (the cursor to store); with none
        returned, the one before `first_sequence`."""
        return self.first_sequence + len(self.events) - 1
