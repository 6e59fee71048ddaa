"""The JSON the pages get about cameras: what the wall's badges and the health table show.

Viewers and operators alike get these fields. Source URLs are not sent (no page needs
them); a state's reason may name the source as gRPC's does, with its password redacted
and a file source cut to its file name (the server's directories are nobody's business
at the duty desk).
"""

from __future__ import annotations

from ..config.camera import hide_server_paths
from ..control import CameraView
from ..domain import CameraState, DetectionBatch, Event, Severity
from ..events import Acknowledgement
from ..gateway.auth import Principal


def camera_summary(view: CameraView, now: float) -> dict:
    """One camera's identity and observed state; `now` (epoch seconds) dates `last_frame_age_s`."""
    config, status = view.config, view.status
    summary: dict = {
        "id": config.id,
        "name": config.name or config.id,
        "groups": list(config.groups),
        "enabled": config.enabled,
        "node": view.node_id,
    }
    if status is None:
        state = CameraState.STOPPED.value if not config.enabled else "pending"
        summary.update(state=state, reason="" if config.enabled else "disabled", observed=False)
        return summary
    age = None if status.last_frame_time is None else max(0.0, round(now - status.last_frame_time, 2))
    summary.update(
        observed=True,
        state=status.state.value,
        reason=hide_server_paths(config, status.reason),
        mode=str(status.mode),
        fps_in=round(status.fps_in, 2),
        fps_out=round(status.fps_out, 2),
        latency_s=round(status.capture_to_publish_seconds, 4),
        last_frame_age_s=age,
        frames_received=status.frames_received,
        frames_analysed=status.frames_analysed,
        reconnects=status.reconnects,
        node=view.node_id or status.node_id or None,
    )
    return summary


def principal_summary(principal: Principal) -> dict:
    return {
        "name": principal.name,
        "role": str(principal.role),
        "scoped": principal.scoped,
    }


def detections_message(batch: DetectionBatch) -> dict:
    """The overlay of a tile: the newest batch's boxes (normalised 0..1) and track ids."""
    return {
        "type": "detections",
        "camera": batch.camera_id,
        "sequence": batch.sequence,
        "frame_sequence": batch.frame_sequence,
        "capture_time": batch.capture_time,
        "motion": batch.motion,
        "detections": [
            {
                "class": d.class_name,
                "confidence": round(d.confidence, 3),
                "box": [round(d.box.x, 4), round(d.box.y, 4), round(d.box.w, 4), round(d.box.h, 4)],
                "track": d.track_id,
            }
            for d in batch.detections
        ],
    }


def ack_summary(ack: Acknowledgement) -> dict:
    """Who acknowledged an event and when (epoch seconds)."""
    return {"event_id": ack.event_id, "by": ack.by, "at": ack.at}


def event_summary(event: Event, ack: Acknowledgement | None = None) -> dict:
    """One event as the feed and the search page show it (no thumbnail: the page loads it
    from `/api/events/<id>/thumbnail`, which checks scope like `GetEvent`)."""
    return {
        "id": event.event_id,
        "camera": event.camera_id,
        "type": event.type.value,
        "severity": event.severity.value,
        "alert": event.severity is Severity.ALERT,
        "rule": event.rule,
        "start_time": event.start_time,
        "end_time": event.end_time,
        "class": event.class_name,
        "track": event.track_id,
        "direction": None if event.direction is None else event.direction.value,
        "dwell_s": None if event.dwell_s is None else round(event.dwell_s, 1),
        "count": event.count,
        "confidence": None if event.peak_confidence is None else round(event.peak_confidence, 3),
        "revision": event.revision,
        "job": event.job_id,
        "ack": None if ack is None else ack_summary(ack),
    }
