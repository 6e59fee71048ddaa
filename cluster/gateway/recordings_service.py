"""matthan.v1.Recordings: recorded ranges and gaps, holds, chain verification and export.

The recordings are files the camera actors write (`cluster.recordings`); this
service reads them where the catalog says they are (a directory this process
can read: the same machine, or a shared mount for a multi-node cluster). File
work runs on worker threads so the event loop keeps serving.

Roles: listing is for viewers (of the camera); holds, verification and masked
exports for operators; an unmasked export needs the admin role and a reason,
and is audited (the camera's `audit.jsonl` and the access log) like every export.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from ..config import CameraConfig
from ..config.server import Role
from ..contract import RequestError
from ..contract.recordings import (
    chain_check_to_proto,
    hold_to_proto,
    optional_time_range,
    time_range,
    timeline_to_proto,
)
from ..domain import ChainCheck, Event
from ..proto.matthan.v1 import recordings_pb2, recordings_pb2_grpc
from ..recordings import RecordingCatalog, Verification, timeline, verify_chain
from ..recordings.export import ExportCancelled, ExportError, export_clip
from ..recordings.holds import HoldNotFound, audit, place_hold, read_holds, release_hold
from ..video.frame_hook import IDENTITY, frame_hook_for
from .auth import AuthError, Principal
from .rpc import GatewayState, StatusError, check_camera_id, request_cameras, status_for, unary

if TYPE_CHECKING:
    from ..metrics.recordings import RecordingMetrics

log = logging.getLogger("matthan.gateway")

EXPORT_CHUNK_BYTES = 1 << 20
MAX_REASON_LENGTH = 1000
# Finds an event by id (the event store), for holds on an event; raises KeyError if unknown.
EventLookup = Callable[[str], Event]


def event_store_lookup(path: Path) -> EventLookup:
    """An EventLookup reading the event store at `path` (opened per lookup: holds are rare)."""

    def lookup(event_id: str) -> Event:
        from ..events.errors import EventNotFound
        from ..events.reader import EventReader

        if not path.exists():
            raise KeyError(event_id)
        with EventReader(path) as reader:
            try:
                return reader.get(event_id, with_thumbnail=False)
            except EventNotFound:
                raise KeyError(event_id) from None

    return lookup


def _reason(field: str, value: str, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise RequestError(field, "required: say why")
    if len(value) > MAX_REASON_LENGTH:
        raise RequestError(field, f"longer than {MAX_REASON_LENGTH} characters")
    return value


def _check(verification: Verification) -> ChainCheck:
    first = verification.first_broken
    return ChainCheck(
        camera_id=verification.camera_id,
        ok=verification.ok,
        entries=verification.entries,
        segments_checked=verification.segments_checked,
        head_index=verification.head_index,
        head_hash=verification.head_hash,
        problems=tuple(p.describe() for p in verification.problems),
        first_broken_index=first.index if first is not None else -1,
    )


class RecordingsService(recordings_pb2_grpc.RecordingsServicer):
    def __init__(
        self,
        state: GatewayState,
        catalog: RecordingCatalog,
        *,
        clock: Callable[[], float] = time.time,
        event_lookup: EventLookup | None = None,
        metrics: RecordingMetrics | None = None,
    ) -> None:
        self.state = state
        self.catalog = catalog
        self.clock = clock
        self.event_lookup = event_lookup
        self.metrics = metrics

    async def _camera(self, principal: Principal, camera_id: str) -> tuple[CameraConfig, Path]:
        view = await self.state.visible_camera(principal, check_camera_id("camera_id", camera_id))
        return view.config, self.catalog.camera_dir(view.config)

    # ------------------------------------------------------------------ reads

    @unary(Role.VIEWER)
    async def ListRecordings(self, request, context, principal: Principal):
        start, end = time_range(request)
        _, camera_dir = await self._camera(principal, request.camera_id)

        def read():
            held = [(h.start, h.end) for h in read_holds(camera_dir)]
            return timeline(camera_dir, request.camera_id, start, end, held=held)

        return timeline_to_proto(await asyncio.to_thread(read))

    @unary(Role.VIEWER)
    async def ListHolds(self, request, context, principal: Principal):
        _, camera_dir = await self._camera(principal, request.camera_id)
        holds = await asyncio.to_thread(read_holds, camera_dir)
        return recordings_pb2.ListHoldsResponse(holds=[hold_to_proto(h) for h in holds])

    @unary(Role.OPERATOR)
    async def VerifyRecordings(self, request, context, principal: Principal):
        start, end = optional_time_range(request)
        _, camera_dir = await self._camera(principal, request.camera_id)
        result = _check(await asyncio.to_thread(verify_chain, camera_dir, request.camera_id, start=start, end=end))
        if self.metrics is not None:
            self.metrics.verified(request.camera_id, result.ok)
        if not result.ok:
            log.warning("camera %s: recordings verification failed: %s", request.camera_id, result.problems[0])
        return chain_check_to_proto(result)

    # ------------------------------------------------------------------ holds

    @unary(Role.OPERATOR)
    async def PlaceHold(self, request, context, principal: Principal):
        reason = _reason("reason", request.reason, required=True)
        config, camera_dir = await self._camera(principal, request.camera_id)
        event_id = request.event_id.strip()
        if event_id:
            if request.HasField("from") or request.HasField("to"):
                raise RequestError("event_id", "give an event or a time range (from, to), not both")
            start, end = await self._event_span(config, event_id)
        else:
            start, end = time_range(request)
        hold = await asyncio.to_thread(
            place_hold,
            camera_dir,
            config.id,
            start,
            end,
            reason=reason,
            placed_by=principal.name,
            now=self.clock(),
            event_id=event_id,
        )
        return hold_to_proto(hold)

    async def _event_span(self, config: CameraConfig, event_id: str) -> tuple[float, float]:
        if self.event_lookup is None:
            raise StatusError(
                grpc.StatusCode.FAILED_PRECONDITION, "event_id: this server has no event store to look it up"
            )
        try:
            event = await asyncio.to_thread(self.event_lookup, event_id)
        except KeyError:
            raise StatusError(grpc.StatusCode.NOT_FOUND, f"event_id: no event {event_id!r}") from None
        if event.camera_id != config.id:
            raise RequestError("event_id", f"event {event_id!r} is of camera {event.camera_id!r}, not {config.id!r}")
        end = event.end_time if event.end_time is not None else self.clock()
        return event.start_time - config.recording.pre_roll_s, end + config.recording.post_roll_s

    @unary(Role.OPERATOR)
    async def ReleaseHold(self, request, context, principal: Principal):
        reason = _reason("reason", request.reason, required=True)
        if not request.hold_id.strip():
            raise RequestError("hold_id", "required")
        config, camera_dir = await self._camera(principal, request.camera_id)
        try:
            hold = await asyncio.to_thread(
                release_hold,
                camera_dir,
                config.id,
                request.hold_id.strip(),
                reason=reason,
                released_by=principal.name,
                now=self.clock(),
            )
        except HoldNotFound as exc:
            raise StatusError(grpc.StatusCode.NOT_FOUND, f"hold_id: {exc}") from None
        return hold_to_proto(hold)

    # ------------------------------------------------------------------ export

    async def ExportClip(self, request, context: grpc.aio.ServicerContext):
        state = self.state
        method = "ExportClip"
        principal: Principal | None = None
        try:
            principal = state.authenticate(context)
            principal.require(Role.OPERATOR, method)
            unmasked = bool(request.unmasked)
            if unmasked and not principal.may(Role.ADMIN):
                raise AuthError(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"token {principal.name!r} ({principal.role}) may not export without the privacy masks: "
                    "it needs the admin role",
                )
            reason = _reason("reason", request.reason, required=unmasked)
            start, end = time_range(request)
            config, camera_dir = await self._camera(principal, request.camera_id)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status code
            code, message = status_for(exc)
            state.access.call(
                principal, method, request_cameras(request), context.peer(), status=code.name, detail=message
            )
            await context.abort(code, message)
            return
        record = state.access.stream_start(
            principal, method, [config.id], context.peer(), masked=not unmasked, reason=reason, start_s=start, end_s=end
        )
        cancel = threading.Event()
        code, message = grpc.StatusCode.OK, ""
        with tempfile.TemporaryDirectory(prefix="matthan-export-") as scratch:
            destination = Path(scratch) / f"{config.id}.mp4"
            try:
                result = await asyncio.to_thread(
                    export_clip,
                    camera_dir,
                    config.id,
                    start,
                    end,
                    destination,
                    hook=IDENTITY if unmasked else frame_hook_for(config),
                    masked=not unmasked,
                    exported_by=principal.name,
                    reason=reason,
                    now=self.clock(),
                    cancel=cancel,
                )
                await asyncio.to_thread(
                    audit,
                    camera_dir,
                    {
                        "action": "export",
                        "by": principal.name,
                        "role": str(principal.role),
                        "at": self.clock(),
                        "masked": not unmasked,
                        "reason": reason,
                        "from": start,
                        "to": end,
                        "clip_sha256": result.manifest["clip"]["sha256"],
                    },
                )
                if self.metrics is not None:
                    self.metrics.exported(config.id, masked=not unmasked, seconds=end - start)
                with open(result.path, "rb") as clip:
                    while chunk := await asyncio.to_thread(clip.read, EXPORT_CHUNK_BYTES):
                        await context.write(recordings_pb2.ExportClipChunk(data=chunk))
                        record.messages += 1
                await context.write(recordings_pb2.ExportClipChunk(manifest_json=json.dumps(result.manifest, indent=2)))
                record.messages += 1
            except asyncio.CancelledError:
                cancel.set()
                record.end("CANCELLED", "cancelled by the client, its deadline, or server stop")
                raise
            except ExportError as exc:
                if exc.data_loss:
                    code, message = grpc.StatusCode.DATA_LOSS, exc.message
                elif exc.not_found:
                    code, message = grpc.StatusCode.NOT_FOUND, f"{exc.field}: {exc.message}"
                else:
                    code, message = grpc.StatusCode.INVALID_ARGUMENT, f"{exc.field or 'request'}: {exc.message}"
            except ExportCancelled:
                code, message = grpc.StatusCode.CANCELLED, "export cancelled"
            except Exception as exc:  # noqa: BLE001 - every failure becomes a status code (status_for logs bugs)
                code, message = status_for(exc)
        record.end(code.name, message)
        if code is not grpc.StatusCode.OK:
            await context.abort(code, message)
