"""Gives detections stable track ids across frames."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from cluster.config.analysis import TrackerConfig
from cluster.domain import Box, Detection

# Distances are measured on normalised boxes; the normalised frame is a unit square.
_NORMALISED_DIAGONAL = math.sqrt(2.0)


@dataclass(slots=True)
class Track:
    track_id: int
    class_id: int
    box: Box
    last_seen: float
    hits: int = 1


class Tracker:
    """Greedy association of detections to live tracks.

    Every (track, detection) pair that qualifies — IoU >= `iou_threshold` for the
    iou method, centroid distance <= `max_distance` (as a fraction of the normalised
    frame's diagonal) for the centroid method, same class when `per_class` — is
    ranked by affinity, and pairs are taken best first while both sides are free.
    No Hungarian solver: with a handful of objects per camera greedy is as good and
    needs no scipy.

    Time is the frames' media time (`Frame.pts`), passed to every `update`: a track
    keeps its id while it is matched at least every `max_age_s` seconds of footage;
    one unseen for longer (timestamp - last_seen > max_age_s) is dropped, so
    detector misses shorter than that are bridged. Unmatched detections open new
    tracks. Ids start at 1, only grow, and are never reused, also by a tracker that
    continues another one's ids (`ids=previous.ids`, after a settings change).
    """

    def __init__(self, config: TrackerConfig, *, ids: Iterator[int] | None = None) -> None:
        self.config = config
        self._tracks: list[Track] = []
        self.ids = ids if ids is not None else itertools.count(1)

    @property
    def tracks(self) -> tuple[Track, ...]:
        """Live tracks (including ones waiting out a miss), oldest first."""
        return tuple(self._tracks)

    def live_ids(self, timestamp: float) -> frozenset[int]:
        """Ids of the tracks still alive at media time `timestamp`: the ones the next
        `update` at that time would keep (seen within `max_age_s`)."""
        return frozenset(t.track_id for t in self._tracks if timestamp - t.last_seen <= self.config.max_age_s)

    def reset(self) -> None:
        """Drop every track; ids still continue from where they were."""
        self._tracks = []

    def update(self, detections: Sequence[Detection], timestamp: float) -> tuple[Detection, ...]:
        """Assign track ids to one frame's detections (returned in the same order);
        `timestamp` is the frame's media time in seconds."""
        now = timestamp
        self._tracks = [t for t in self._tracks if now - t.last_seen <= self.config.max_age_s]
        pairs = self._candidate_pairs(detections)
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))  # best affinity, then oldest track, then input order
        track_for_detection: dict[int, Track] = {}
        matched_tracks: set[int] = set()
        for _, track_index, detection_index in pairs:
            if track_index in matched_tracks or detection_index in track_for_detection:
                continue
            matched_tracks.add(track_index)
            track_for_detection[detection_index] = self._tracks[track_index]
        result = []
        for index, detection in enumerate(detections):
            track = track_for_detection.get(index)
            if track is None:
                track = Track(next(self.ids), detection.class_id, detection.box, now, hits=0)
                self._tracks.append(track)
            track.box = detection.box
            track.class_id = detection.class_id
            track.last_seen = now
            track.hits += 1
            result.append(replace(detection, track_id=track.track_id))
        return tuple(result)

    def _candidate_pairs(self, detections: Sequence[Detection]) -> list[tuple[float, int, int]]:
        """(affinity, track index, detection index) for every pair that may match."""
        pairs = []
        use_iou = self.config.method == "iou"
        for track_index, track in enumerate(self._tracks):
            for detection_index, detection in enumerate(detections):
                if self.config.per_class and detection.class_id != track.class_id:
                    continue
                if use_iou:
                    affinity = track.box.iou(detection.box)
                    if affinity >= self.config.iou_threshold:
                        pairs.append((affinity, track_index, detection_index))
                else:
                    (tx, ty), (dx, dy) = track.box.center, detection.box.center
                    distance = math.hypot(tx - dx, ty - dy) / _NORMALISED_DIAGONAL
                    if distance <= self.config.max_distance:
                        pairs.append((-distance, track_index, detection_index))
        return pairs
