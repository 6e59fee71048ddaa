"""The `matthan.v1.Recordings` part of the client: `MatthanClient(...).recordings`.

    with MatthanClient.from_env() as client:
        timeline = client.recordings.timeline("cam-1", start, end)
        check = client.recordings.verify("cam-1")
        export = client.recordings.export("cam-1", start, end, Path("clip.mp4"), reason="case 2026-114")
        print(export.manifest["clip"]["sha256"])

An export is streamed in chunks into `<destination>.part`, renamed once the
manifest (the last message) arrived, and the manifest is written beside the
clip as `<destination>.manifest.json`; a failed export leaves no clip behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from ..contract.recordings import (
    chain_check_from_proto,
    hold_from_proto,
    set_range,
    timeline_from_proto,
)
from ..domain import ChainCheck, EvidenceHold, RecordingTimeline
from ..proto.matthan.v1 import recordings_pb2, recordings_pb2_grpc
from .errors import ClientError, error_from_rpc

# An export decodes and encodes every frame of the range: allow it time (about a
# tenth of real time on a small machine; 6 h of footage at most in one export).
EXPORT_TIMEOUT_S = 3600.0
MANIFEST_SUFFIX = ".manifest.json"


@dataclass(frozen=True)
class ExportedClip:
    path: Path
    manifest_path: Path
    manifest: dict[str, Any]
    bytes: int


class RecordingsClient:
    def __init__(self, channel: grpc.Channel, metadata: tuple[tuple[str, str], ...], timeout_s: float) -> None:
        self._stub = recordings_pb2_grpc.RecordingsStub(channel)
        self._metadata = metadata
        self.timeout_s = timeout_s

    def _unary(self, method: Callable[..., Any], request: Any) -> Any:
        try:
            return method(request, metadata=self._metadata, timeout=self.timeout_s)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None

    def timeline(self, camera_id: str, start: float, end: float) -> RecordingTimeline:
        """Recorded ranges, gaps and segments of `camera_id` over [start, end)."""
        request = recordings_pb2.ListRecordingsRequest(camera_id=camera_id)
        set_range(request, start, end)
        return timeline_from_proto(self._unary(self._stub.ListRecordings, request), start, end)

    def verify(self, camera_id: str, start: float | None = None, end: float | None = None) -> ChainCheck:
        """Check the camera's hash chain (whole) and the segments overlapping [start, end)."""
        request = recordings_pb2.VerifyRecordingsRequest(camera_id=camera_id)
        set_range(request, start, end)
        return chain_check_from_proto(self._unary(self._stub.VerifyRecordings, request))

    def place_hold(
        self,
        camera_id: str,
        *,
        reason: str,
        start: float | None = None,
        end: float | None = None,
        event_id: str = "",
    ) -> EvidenceHold:
        """Keep the segments of [start, end), or of an event's span, past retention."""
        request = recordings_pb2.PlaceHoldRequest(camera_id=camera_id, event_id=event_id, reason=reason)
        set_range(request, start, end)
        return hold_from_proto(self._unary(self._stub.PlaceHold, request))

    def release_hold(self, camera_id: str, hold_id: str, *, reason: str) -> EvidenceHold:
        request = recordings_pb2.ReleaseHoldRequest(camera_id=camera_id, hold_id=hold_id, reason=reason)
        return hold_from_proto(self._unary(self._stub.ReleaseHold, request))

    def holds(self, camera_id: str) -> list[EvidenceHold]:
        response = self._unary(self._stub.ListHolds, recordings_pb2.ListHoldsRequest(camera_id=camera_id))
        return [hold_from_proto(h) for h in response.holds]

    def export(
        self,
        camera_id: str,
        start: float,
        end: float,
        destination: Path,
        *,
        unmasked: bool = False,
        reason: str = "",
        timeout_s: float = EXPORT_TIMEOUT_S,
    ) -> ExportedClip:
        """[start, end) as one MP4 at `destination` (masks burnt in unless `unmasked`,
        which needs the admin role and a reason), with its manifest beside it."""
        destination = Path(destination)
        request = recordings_pb2.ExportClipRequest(camera_id=camera_id, unmasked=unmasked, reason=reason)
        set_range(request, start, end)
        part = destination.with_name(destination.name + ".part")
        manifest: dict[str, Any] | None = None
        written = 0
        call = self._stub.ExportClip(request, metadata=self._metadata, timeout=timeout_s)
        try:
            with open(part, "wb") as out:
                for chunk in call:
                    if chunk.HasField("data"):
                        out.write(chunk.data)
                        written += len(chunk.data)
                    elif chunk.HasField("manifest_json"):
                        manifest = json.loads(chunk.manifest_json)
        except grpc.RpcError as exc:
            part.unlink(missing_ok=True)
            raise error_from_rpc(exc) from None
        except BaseException:
            call.cancel()
            part.unlink(missing_ok=True)
            raise
        if manifest is None:
            part.unlink(missing_ok=True)
            raise ClientError(grpc.StatusCode.DATA_LOSS, "the export ended without its manifest")
        os.replace(part, destination)
        manifest_path = destination.with_name(destination.name + MANIFEST_SUFFIX)
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return ExportedClip(destination, manifest_path, manifest, written)
