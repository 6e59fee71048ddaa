"""Exporting a time range as one MP4, with the privacy masks burnt in, and its manifest.

This is the one place that re-encodes: the segments are a stream copy of the
camera, but a clip handed over must not show what the camera's privacy masks
hide, so every frame is decoded, passed through the camera's frame hook (the
same `PrivacyHook` the live path applies) and encoded again (H.264, libx264).
An unmasked export (admin role and a reason, checked by the gateway) passes
the identity hook instead; it is re-encoded the same way, so both kinds of
clip are cut exactly at the range asked for.

Before a segment is used its size and sha256 are checked against the chain: a
clip is never made from footage that was changed. The manifest names the
camera, the range, who exported it, when and why, whether it is masked, each
segment used (chain index, entry hash, sha256), the chain's head at the time
and the clip's own sha256, so the clip can be tied back to the chain by anyone
holding the recordings (`matthan recordings verify`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from cluster.domain import Frame
from cluster.video.frame_hook import FrameHook

from .chain import chain_head, file_sha256
from .index import SegmentFile, segments_for_range, timeline

CLIP_TIME_BASE = Fraction(1, 1000)
ENCODER = "libx264"
ENCODER_OPTIONS = {"preset": "veryfast", "crf": "23"}
MAX_EXPORT_S = 6 * 3600.0


class ExportError(Exception):
    """An export that cannot be made; `field` names the request field at fault, if any."""

    def __init__(self, message: str, *, field: str = "", data_loss: bool = False, not_found: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.data_loss = data_loss  # the footage itself is damaged (DATA_LOSS)
        self.not_found = not_found  # nothing recorded in the range (NOT_FOUND)


class ExportCancelled(Exception):
    pass


@dataclass(frozen=True)
class ExportResult:
    path: Path
    manifest: dict[str, Any]


def export_clip(
    camera_dir: Path,
    camera_id: str,
    start: float,
    end: float,
    destination: Path,
    *,
    hook: FrameHook,
    masked: bool,
    exported_by: str,
    reason: str,
    now: float,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> ExportResult:
    """Write [start, end) of `camera_id` to `destination` (MP4) and return it with its
    manifest. Raises ExportError (nothing recorded, a damaged segment) or
    ExportCancelled (`cancel` was set)."""
    if not end > start:
        raise ExportError(f"the range must end after it starts ({start} .. {end})", field="to")
    if end - start > MAX_EXPORT_S:
        raise ExportError(
            f"at most {MAX_EXPORT_S / 3600:g} h in one export, asked {(end - start) / 3600:.1f} h", field="to"
        )
    segments = segments_for_range(camera_dir, start, end)
    if not segments:
        raise ExportError(
            f"camera {camera_id!r} has no recording between {start} and {end}", field="from", not_found=True
        )
    for segment in segments:
        _check_intact(segment)
    head_index, head_hash = chain_head(camera_dir)
    frames, size = _encode(segments, start, end, destination, hook=hook, cancel=cancel, progress=progress)
    if frames == 0:
        destination.unlink(missing_ok=True)
        raise ExportError(f"camera {camera_id!r} has no frame between {start} and {end}", field="from", not_found=True)
    info = timeline(camera_dir, camera_id, start, end)
    manifest = {
        "camera_id": camera_id,
        "from": start,
        "to": end,
        "masked": masked,
        "reason": reason,
        "exported_by": exported_by,
        "exported_at": now,
        "segments": [
            {
                "index": s.index,
                "file": s.file,
                "start": s.start,
                "end": s.end,
                "sha256": s.sha256,
                "entry_hash": s.entry_hash,
            }
            for s in info.segments
        ],
        "gaps": [{"start": g.start, "end": g.end, "reason": g.reason} for g in info.gaps],
        "chain_head": {"index": head_index, "hash": head_hash},
        "clip": {
            "format": "mp4",
            "codec": "h264",
            "encoder": f"{ENCODER} {ENCODER_OPTIONS}",
            "width": size[0],
            "height": size[1],
            "frames": frames,
            "bytes": destination.stat().st_size,
            "sha256": file_sha256(destination),
        },
    }
    return ExportResult(destination, manifest)


def _check_intact(segment: SegmentFile) -> None:
    name = segment.path.name
    if not segment.path.is_file():
        raise ExportError(f"segment {name} (chain entry {segment.index}) is missing", data_loss=True)
    if file_sha256(segment.path) != segment.sha256:
        raise ExportError(
            f"segment {name} (chain entry {segment.index}) does not match its sha256 on the chain: it was changed",
            data_loss=True,
        )


def _encode(
    segments: list[SegmentFile],
    start: float,
    end: float,
    destination: Path,
    *,
    hook: FrameHook,
    cancel: threading.Event | None,
    progress: Callable[[float], None] | None,
) -> tuple[int, tuple[int, int]]:
    output = av.open(str(destination), "w", format="mp4", options={"movflags": "+faststart"})
    stream: Any = None
    size = (0, 0)
    frames = 0
    last_ms = -1
    try:
        for segment in segments:
            with av.open(str(segment.path)) as container:
                source = container.streams.video[0]
                time_base = source.time_base or CLIP_TIME_BASE
                first: int | None = None
                for decoded in container.decode(source):
                    if cancel is not None and cancel.is_set():
                        raise ExportCancelled()
                    if decoded.pts is None:
                        continue
                    first = decoded.pts if first is None else first
                    at = segment.start + float((decoded.pts - first) * time_base)
                    if at < start:
                        continue
                    if at >= end:
                        break
                    ms = round((at - start) * 1000)
                    if ms <= last_ms:  # a picture sent twice: keep the first
                        continue
                    if stream is None:
                        size = (decoded.width - decoded.width % 2, decoded.height - decoded.height % 2)
                        stream = _encoder_stream(output, source, size)
                    image = decoded.to_ndarray(format="bgr24")
                    hooked = hook.apply(Frame(sequence=frames, capture_time=at, image=image, pts=at - start))
                    frame = av.VideoFrame.from_ndarray(hooked.image, format="bgr24")
                    if (frame.width, frame.height) != size:
                        frame = frame.reformat(width=size[0], height=size[1])
                    frame = frame.reformat(format="yuv420p")
                    frame.pts, frame.time_base = ms, CLIP_TIME_BASE
                    for packet in stream.encode(frame):
                        output.mux(packet)
                    frames += 1
                    last_ms = ms
                    if progress is not None:
                        progress(at - start)
        if stream is not None:
            for packet in stream.encode(None):
                output.mux(packet)
    finally:
        output.close()
    return frames, size


def _encoder_stream(output: Any, source: Any, size: tuple[int, int]) -> Any:
    rate = source.average_rate or source.guessed_rate or Fraction(25)
    stream = output.add_stream(ENCODER, rate=rate, options=dict(ENCODER_OPTIONS))
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.time_base = CLIP_TIME_BASE
    stream.codec_context.time_base = CLIP_TIME_BASE
    return stream
