"""Turning what the rules and the tamper detector decide into `Event` revisions.

One `EventEmitter` per camera run (the rules stage and the tamper stage share it).
It stamps every event with the camera and job, computes its id, numbers its
revisions (0 for the start, +1 for each update or the end) and attaches
thumbnails: a small JPEG of the frame (as the frame hook left it, so privacy
masks are in it) to the revision that introduces a new picture, never to the
updates that only change numbers.

Media time of events. `start_pts`/`end_pts` are the frame's `pts` plus the run's
`pts_origin`. The file driver uses origin 0 (or the footage's own start time), so
reprocessing a file gives the same ids every time. A live camera's media time
restarts at 0 whenever its capture restarts (actor restart, source change), so
the camera uses the wall-clock time its run started as origin: a new run can
never reuse an id of an earlier one (the store would take the new event for an
old revision and drop it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import cv2

from cluster.domain import Event, EventType, Frame, Severity


class Thumbnailer:
    """Small JPEGs of frames, encoded once per frame however many events need it."""

    def __init__(self, width: int, quality: int) -> None:
        self.width = width
        self.quality = quality
        self._frame: Frame | None = None
        self._jpeg: bytes | None = None
        self.encodes = 0

    def of(self, frame: Frame) -> bytes:
        if self._frame is frame and self._jpeg is not None:
            return self._jpeg
        image = frame.image
        height, width = image.shape[:2]
        if width > self.width:
            size = (self.width, max(1, round(height * self.width / width)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError("JPEG encoding of an event thumbnail failed")
        self._frame, self._jpeg = frame, buffer.tobytes()
        self.encodes += 1
        return self._jpeg


class EventEmitter:
    """Makes the revisions of one camera run's events and collects them until `drain()`.

    Not thread-safe: the analysis thread that runs the pipeline owns it.
    """

    def __init__(
        self,
        camera_id: str,
        *,
        thumbnails: Thumbnailer | None = None,
        pts_origin: float = 0.0,
        job_id: str | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.thumbnails = thumbnails
        self.pts_origin = pts_origin
        self.job_id = job_id
        self._pending: list[Event] = []

    def pts(self, frame_pts: float) -> float:
        """An event's media time for a frame's `pts`."""
        return self.pts_origin + frame_pts

    def start(
        self,
        type: EventType,
        severity: Severity | str,
        rule: str,
        *,
        start_pts: float,
        start_time: float,
        thumbnail_of: Frame | None = None,
        instant: bool = False,
        **fields: Any,
    ) -> Event:
        """Revision 0 of a new event; `start_pts` is a frame's own pts. An `instant`
        event (an entry, a crossing) ends where it starts, in the same revision."""
        pts = self.pts(start_pts)
        if instant:
            fields.setdefault("end_pts", pts)
            fields.setdefault("end_time", start_time)
        event = Event.new(
            self.camera_id,
            type,
            severity,
            rule,
            start_time=start_time,
            start_pts=pts,
            job_id=self.job_id,
            thumbnail=self._thumbnail(thumbnail_of),
            **fields,
        )
        self._pending.append(event)
        return event

    def update(self, event: Event, *, thumbnail_of: Frame | None = None, **changes: Any) -> Event:
        """The next revision of `event` with `changes`; a thumbnail only with `thumbnail_of`."""
        revision = dataclasses.replace(
            event, revision=event.revision + 1, thumbnail=self._thumbnail(thumbnail_of), **changes
        )
        self._pending.append(revision)
        return revision

    def end(self, event: Event, *, end_pts: float, end_time: float, **changes: Any) -> Event:
        """The closing revision of `event`, at a frame's own pts (never before the start)."""
        revision = self.closing(event, end_pts=end_pts, end_time=end_time, **changes)
        self._pending.append(revision)
        return revision

    def closing(self, event: Event, *, end_pts: float, end_time: float, **changes: Any) -> Event:
        """The revision `end` makes, without queueing it: for a driver that closes an event
        the rules have not ended (a batch segment at its tail limit), while the run goes on."""
        pts = max(self.pts(end_pts), event.start_pts)
        return dataclasses.replace(
            event,
            revision=event.revision + 1,
            thumbnail=None,
            end_pts=pts,
            end_time=max(end_time, event.start_time),
            **changes,
        )

    def drain(self) -> tuple[Event, ...]:
        """Every revision made since the last drain, in order."""
        pending, self._pending = tuple(self._pending), []
        return pending

    def _thumbnail(self, frame: Frame | None) -> bytes | None:
        if frame is None or self.thumbnails is None:
            return None
        return self.thumbnails.of(frame)
