"""Recordings on the wire: `matthan.v1.Recordings` messages <-> `cluster.domain` values."""

from __future__ import annotations

from ..domain import (
    ChainCheck,
    EvidenceHold,
    RecordedRange,
    RecordingGap,
    RecordingTimeline,
    SegmentInfo,
)
from ..proto.matthan.v1 import recordings_pb2
from .convert import recording_status_from_proto, recording_status_to_proto
from .errors import RequestError
from .wire import checked_timestamp, from_timestamp, to_timestamp

__all__ = [
    "chain_check_from_proto",
    "chain_check_to_proto",
    "hold_from_proto",
    "hold_to_proto",
    "optional_time_range",
    "recording_status_from_proto",
    "recording_status_to_proto",
    "set_range",
    "time_range",
    "timeline_from_proto",
    "timeline_to_proto",
]


def time_range(request: object) -> tuple[float, float]:
    """(from, to) of a request with `from`/`to` Timestamps, both required; RequestError
    naming the field when one is missing or the range runs backwards."""
    start, end = optional_time_range(request)
    if start is None:
        raise RequestError("from", "required")
    if end is None:
        raise RequestError("to", "required")
    return start, end


def optional_time_range(request: object) -> tuple[float | None, float | None]:
    """(from, to), either unset (None); RequestError naming `to` when the range runs backwards."""
    has_from, has_to = request.HasField("from"), request.HasField("to")  # type: ignore[attr-defined]
    start = checked_timestamp("from", getattr(request, "from")) if has_from else None
    end = checked_timestamp("to", request.to) if has_to else None  # type: ignore[attr-defined]
    if start is not None and end is not None and not end > start:
        raise RequestError(
            "to", f"must be after from (from {start:.3f}, to {end:.3f}: the range runs backwards or is empty)"
        )
    return start, end


def set_range(msg: object, start: float | None, end: float | None) -> None:
    if start is not None:
        getattr(msg, "from").CopyFrom(to_timestamp(start))
    if end is not None:
        msg.to.CopyFrom(to_timestamp(end))  # type: ignore[attr-defined]


def timeline_to_proto(timeline: RecordingTimeline) -> recordings_pb2.ListRecordingsResponse:
    return recordings_pb2.ListRecordingsResponse(
        camera_id=timeline.camera_id,
        ranges=[
            recordings_pb2.RecordedRange(start=to_timestamp(r.start), end=to_timestamp(r.end), segments=r.segments)
            for r in timeline.ranges
        ],
        gaps=[
            recordings_pb2.RecordingGap(start=to_timestamp(g.start), end=to_timestamp(g.end), reason=g.reason)
            for g in timeline.gaps
        ],
        segments=[
            recordings_pb2.RecordedSegment(
                index=s.index,
                file=s.file,
                start=to_timestamp(s.start),
                end=to_timestamp(s.end),
                bytes=s.bytes,
                sha256=s.sha256,
                mode=s.mode,
                entry_hash=s.entry_hash,
                held=s.held,
            )
            for s in timeline.segments
        ],
    )


def timeline_from_proto(msg: recordings_pb2.ListRecordingsResponse, start: float, end: float) -> RecordingTimeline:
    return RecordingTimeline(
        camera_id=msg.camera_id,
        start=start,
        end=end,
        ranges=tuple(RecordedRange(from_timestamp(r.start), from_timestamp(r.end), r.segments) for r in msg.ranges),
        gaps=tuple(RecordingGap(from_timestamp(g.start), from_timestamp(g.end), g.reason) for g in msg.gaps),
        segments=tuple(
            SegmentInfo(
                index=s.index,
                file=s.file,
                start=from_timestamp(s.start),
                end=from_timestamp(s.end),
                bytes=s.bytes,
                sha256=s.sha256,
                mode=s.mode,
                entry_hash=s.entry_hash,
                held=s.held,
            )
            for s in msg.segments
        ),
    )


def hold_to_proto(hold: EvidenceHold) -> recordings_pb2.EvidenceHold:
    return recordings_pb2.EvidenceHold(
        hold_id=hold.hold_id,
        camera_id=hold.camera_id,
        start=to_timestamp(hold.start),
        end=to_timestamp(hold.end),
        reason=hold.reason,
        placed_by=hold.placed_by,
        placed_at=to_timestamp(hold.placed_at),
        event_id=hold.event_id,
    )


def hold_from_proto(msg: recordings_pb2.EvidenceHold) -> EvidenceHold:
    return EvidenceHold(
        hold_id=msg.hold_id,
        camera_id=msg.camera_id,
        start=from_timestamp(msg.start),
        end=from_timestamp(msg.end),
        reason=msg.reason,
        placed_by=msg.placed_by,
        placed_at=from_timestamp(msg.placed_at),
        event_id=msg.event_id,
    )


def chain_check_to_proto(check: ChainCheck) -> recordings_pb2.VerifyRecordingsResponse:
    return recordings_pb2.VerifyRecordingsResponse(
        camera_id=check.camera_id,
        ok=check.ok,
        entries=check.entries,
        segments_checked=check.segments_checked,
        head_index=check.head_index,
        head_hash=check.head_hash,
        problems=list(check.problems),
        first_broken_index=check.first_broken_index,
    )


def chain_check_from_proto(msg: recordings_pb2.VerifyRecordingsResponse) -> ChainCheck:
    return ChainCheck(
        camera_id=msg.camera_id,
        ok=msg.ok,
        entries=msg.entries,
        segments_checked=msg.segments_checked,
        head_index=msg.head_index,
        head_hash=msg.head_hash,
        problems=tuple(msg.problems),
        first_broken_index=msg.first_broken_index,
    )
