"""matthan.v1.Cameras: camera admin, snapshots, frame and detection streams."""

from __future__ import annotations

import asyncio
import logging
import math

import grpc

from ..config import CameraConfig
from ..config.server import Role
from ..contract import RequestError
from ..contract.convert import (
    apply_update,
    camera_view_to_proto,
    detection_response,
    jpeg_frame_to_proto,
    spec_to_camera_config,
)
from ..control import CameraUnavailable, CameraUnresponsive
from ..proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc
from .auth import Principal
from .fanout import CloseKind, DetectionFilter, DetectionSubscription, FrameKey, FrameSubscription, StreamClosed
from .rpc import (
    ClientGone,
    GatewayState,
    StuckClient,
    check_camera_id,
    check_camera_ids,
    check_frame_options,
    check_names,
    check_range,
    check_sequence,
    request_cameras,
    status_for,
    stream_rendition,
    unary,
    write_or_give_up,
)

log = logging.getLogger("matthan.gateway")

_MAX_RESUME_SHOWN = 10  # cameras listed in a RESOURCE_EXHAUSTED message
# Share of a snapshot's time left for the camera's reply after its long-poll ends.
SNAPSHOT_REPLY_SHARE = 0.1


class CamerasService(cameras_pb2_grpc.CamerasServicer):
    def __init__(self, state: GatewayState):
        self.state = state

    # ----------------------------------------------------------------- admin

    @unary(Role.VIEWER)
    async def ListCameras(self, request, context, principal: Principal):
        groups = set(check_names("groups", list(request.groups)))
        views = [
            v
            for v in await self.state.control.list_cameras()
            if principal.sees(v.config) and (not groups or not groups.isdisjoint(v.config.groups))
        ]
        views.sort(key=lambda v: v.config.id)
        return cameras_pb2.ListCamerasResponse(
            cameras=[camera_view_to_proto(v, redact=principal.redact_secrets) for v in views]
        )

    @unary(Role.VIEWER)
    async def GetCamera(self, request, context, principal: Principal):
        view = await self.state.visible_camera(principal, check_camera_id("camera_id", request.camera_id))
        return camera_view_to_proto(view, redact=principal.redact_secrets)

    @unary(Role.OPERATOR)
    async def AddCamera(self, request, context, principal: Principal):
        if not request.HasField("camera"):
            raise RequestError("camera", "required")
        config = self._with_recording_directory(spec_to_camera_config(request.camera, file_roots=self.state.file_roots))
        view = await self.state.control.add_camera(config)
        self.state.watch.poke()  # all-camera streams pick it up now
        return camera_view_to_proto(view)

    @unary(Role.OPERATOR)
    async def UpdateCamera(self, request, context, principal: Principal):
        if not request.HasField("camera"):
            raise RequestError("camera", "required")
        camera_id = check_camera_id("camera.id", request.camera.id)
        current = await self.state.control.get_camera(camera_id)
        config = apply_update(
            current.config, request.camera, list(request.update_mask.paths), file_roots=self.state.file_roots
        )
        view = await self.state.control.update_camera(self._with_recording_directory(config))
        self.state.watch.poke()  # group changes revoke or grant access now
        return camera_view_to_proto(view)

    @unary(Role.OPERATOR)
    async def RemoveCamera(self, request, context, principal: Principal):
        camera_id = check_camera_id("camera_id", request.camera_id)
        await self.state.control.remove_camera(camera_id)
        self.state.fanout.meter.camera_gone(camera_id)  # its series go once its streams have ended
        return cameras_pb2.RemoveCameraResponse()

    @unary(Role.VIEWER)
    async def GetSnapshot(self, request, context, principal: Principal):
        camera_id = check_camera_id("camera_id", request.camera_id)
        max_width, quality = check_frame_options(request)
        await self.state.visible_camera(principal, camera_id)
        timeout = self.state.config.limits.snapshot_timeout_s
        remaining = context.time_remaining()
        if remaining is not None:
            timeout = max(0.0, min(timeout, remaining - 0.05))  # answer before the client's deadline
        handle = await self.state.control.handle(camera_id)
        # The whole read ends within `timeout`: a wedged camera is UNAVAILABLE then, not a
        # call waiting out the handle's own (longer) deadline. The long-poll ends a little
        # earlier, so a camera that answers but has no frame says so.
        poll_s = timeout * (1.0 - SNAPSHOT_REPLY_SHARE)
        try:
            frame = await asyncio.wait_for(handle.latest_jpeg(0, poll_s, max_width=max_width, quality=quality), timeout)
        except asyncio.TimeoutError:
            raise CameraUnresponsive(camera_id, "GetSnapshot", timeout) from None
        if frame is None:
            raise CameraUnavailable(f"camera {camera_id!r} produced no frame within {timeout:.1f} s")
        return jpeg_frame_to_proto(frame)

    # --------------------------------------------------------------- streams

    async def StreamFrames(self, request, context: grpc.aio.ServicerContext) -> None:
        async def validate(principal: Principal) -> list[str]:
            camera_id = check_camera_id("camera_id", request.camera_id)
            check_range("max_fps", request.max_fps, 0.01, 60.0, zero_ok=True)
            check_frame_options(request)
            await self.state.visible_camera(principal, camera_id)
            return [camera_id]

        def subscribe(principal: Principal, cameras: list[str]) -> FrameSubscription:
            max_width, quality = stream_rendition(*check_frame_options(request))
            return self.state.fanout.subscribe_frames(FrameKey(cameras[0], max_width, quality), request.max_fps)

        def to_message(item):
            return jpeg_frame_to_proto(item.frame, item.dropped_slow, item.skipped_rate), None

        await self._stream(
            "StreamFrames",
            request,
            context,
            validate=validate,
            subscribe=subscribe,
            to_message=to_message,
            extra={"max_fps": request.max_fps, "max_width": request.max_width, "quality": request.quality},
        )

    async def StreamDetections(self, request, context: grpc.aio.ServicerContext) -> None:
        follow_all = not request.camera_ids

        async def validate(principal: Principal) -> list[str]:
            camera_ids = check_camera_ids("camera_ids", list(request.camera_ids))
            check_names("classes", list(request.classes))
            if not (math.isfinite(request.min_confidence) and 0.0 <= request.min_confidence <= 1.0):
                raise RequestError("min_confidence", f"{request.min_confidence:g} is out of range (0..1)")
            for camera_id, sequence in request.resume_after.items():
                check_camera_id("resume_after", camera_id)
                if camera_ids and camera_id not in camera_ids:
                    raise RequestError("resume_after", f"camera {camera_id!r} is not in camera_ids")
                check_sequence(f"resume_after[{camera_id}]", sequence)
            if camera_ids:
                for camera_id in camera_ids:
                    await self.state.visible_camera(principal, camera_id)
                return camera_ids
            return await self._visible_ids(principal)

        def subscribe(principal: Principal, cameras: list[str]) -> DetectionSubscription:
            detection_filter = DetectionFilter(
                classes=frozenset(request.classes),
                min_confidence=request.min_confidence,
                include_empty=request.include_empty,
            )
            resume = {k: v for k, v in request.resume_after.items() if k in cameras}
            return self.state.fanout.subscribe_detections(cameras, detection_filter, resume, follow_all=follow_all)

        def to_message(item):
            return detection_response(item.batch, item.data_loss), (item.batch.camera_id, item.batch.sequence)

        await self._stream(
            "StreamDetections",
            request,
            context,
            validate=validate,
            subscribe=subscribe,
            to_message=to_message,
            extra={
                "all_cameras": follow_all,
                "classes": list(request.classes)[:20],
                "min_confidence": round(request.min_confidence, 3),
                "resume_after": dict(list(request.resume_after.items())[:20]),
            },
        )

    # ------------------------------------------------------------- internals

    def _with_recording_directory(self, config: CameraConfig) -> CameraConfig:
        """An unset recording directory is the `recordings:` section's for the camera's groups,
        as `matthan serve` resolves it for the cameras of its config file."""
        catalog = self.state.recordings
        return catalog.resolved(config) if catalog is not None else config

    async def _visible_ids(self, principal: Principal) -> list[str]:
        return sorted(v.config.id for v in await self.state.control.list_cameras() if principal.sees(v.config))

    async def _stream(self, method, request, context, *, validate, subscribe, to_message, extra) -> None:
        """Common life of a server stream: auth, validation, subscription, writes, end status, access log."""
        state = self.state
        principal: Principal | None = None
        try:
            principal = state.authenticate(context)
            principal.require(Role.VIEWER, method)
            cameras = await validate(principal)
            sub = subscribe(principal, cameras)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status code (status_for logs bugs)
            code, message = status_for(exc)
            state.access.call(
                principal, method, request_cameras(request), context.peer(), status=code.name, detail=message
            )
            await context.abort(code, message)
            return  # abort() raises; this says so to the reader and the type checker
        record = state.access.stream_start(principal, method, cameras, context.peer(), **extra)
        context.add_done_callback(lambda _: sub.close())  # belt and braces: cancellation also lands in `finally`
        state.watch.watch(principal, sub)
        last_sent: dict[str, int] = {}
        code, message = grpc.StatusCode.OK, ""
        try:
            while True:
                item = await sub.next()
                response, sent = to_message(item)
                await self._write(context, response)
                state.fanout.meter.delivered(sub, item)
                record.messages += 1
                if sent is not None:
                    last_sent[sent[0]] = sent[1]
        except StreamClosed as closed:
            code, message = status_for(closed)
            if closed.kind is CloseKind.SLOW_CONSUMER and last_sent:
                shown = ", ".join(f"{k}={v}" for k, v in sorted(last_sent.items())[:_MAX_RESUME_SHOWN])
                message += f" (last sequences sent: {shown})"
        except StuckClient:
            code = grpc.StatusCode.RESOURCE_EXHAUSTED
            message = f"the client accepted no data for {state.config.limits.stuck_write_timeout_s:g} s"
            sub.close(CloseKind.STUCK_CLIENT, message)  # before `finally`: the close reason is recorded
        except ClientGone as gone:
            code, message = grpc.StatusCode.CANCELLED, str(gone)
        except asyncio.CancelledError:
            record.end("CANCELLED", "cancelled by the client, its deadline, or server stop", **_counters(sub))
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status code (status_for logs bugs)
            code, message = status_for(exc)
        finally:
            state.watch.forget(sub)
            sub.close()
            record.end(code.name, message, **_counters(sub))
        if code not in (grpc.StatusCode.OK, grpc.StatusCode.CANCELLED):
            await context.abort(code, message)

    async def _write(self, context, response) -> None:
        await write_or_give_up(context, response, self.state.config.limits.stuck_write_timeout_s)


def _counters(sub) -> dict:
    if isinstance(sub, FrameSubscription):
        return {"dropped_slow": sub.dropped_slow, "skipped_rate": sub.skipped_rate}
    return {}
