"""The whole gRPC surface, generated from the services the server registers (issue 15).

Every method of every service the server registers, `SERVICE_NAMES` and Jobs
(served here over the plain job manager, `cluster.batch.manager.JobManager`,
behind the same `JobControl` boundary `matthan serve` puts its Ray client;
a new service or method is picked up by itself):
- needs a rule in `REQUIRED_ROLE`: a method without one fails the test;
- refuses callers without a token (UNAUTHENTICATED) and below its role
  (PERMISSION_DENIED), and lets the others through to validation;
- answers random messages built from its request descriptor, with every role's
  token, with a deliberate status: never UNKNOWN, INTERNAL or UNIMPLEMENTED, and a
  unary method never runs past its deadline; the server keeps serving;
- refuses a scoped viewer naming another group's camera (PERMISSION_DENIED or
  NOT_FOUND), or answers without a word of it (a list filtered to its scope).

Events are served from a real store and Jobs from the plain job manager, each
holding something of every camera, so the calls reach what they guard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.batch.job import JobState
from cluster.batch.manager import JobManager
from cluster.batch.planning import ReprocessRequest
from cluster.batch.ports import BatchRoom
from cluster.batch.progress import JobView
from cluster.batch.records import JobRecordStore
from cluster.config.batch import BatchConfig
from cluster.config.server import Role
from cluster.events import EventStore
from cluster.gateway.event_feed import EventFeedSettings
from cluster.gateway.server import SERVICE_NAMES, GatewayServer  # registers the services' descriptors
from cluster.proto.matthan.v1 import jobs_pb2
from tests.conftest import shared_dir, test_file_roots
from tests.events.factory import event

from .conftest import Gateway, default_cameras, metadata, server_config
from .event_store_fake import StoreQueries
from .fakes import FakeControl, LoopThread

FOOTAGE = shared_dir() / "media" / "car-detection.mp4"
FEED_SETTINGS = EventFeedSettings(
    queue_size=64, pull_limit=50, pull_timeout_s=0.5, retry_initial_s=0.05, retry_max_s=0.2
)
JOBS_SERVICE = jobs_pb2.DESCRIPTOR.services_by_name["Jobs"].full_name
SURFACE = (*SERVICE_NAMES, JOBS_SERVICE)

# Who may call what. Add the rule of a new method here (the test below lists what is missing).
REQUIRED_ROLE: dict[str, Role] = {
    "/matthan.v1.Cameras/ListCameras": Role.VIEWER,
    "/matthan.v1.Cameras/GetCamera": Role.VIEWER,
    "/matthan.v1.Cameras/AddCamera": Role.OPERATOR,
    "/matthan.v1.Cameras/UpdateCamera": Role.OPERATOR,
    "/matthan.v1.Cameras/RemoveCamera": Role.OPERATOR,
    "/matthan.v1.Cameras/GetSnapshot": Role.VIEWER,
    "/matthan.v1.Cameras/StreamFrames": Role.VIEWER,
    "/matthan.v1.Cameras/StreamDetections": Role.VIEWER,
    "/matthan.v1.Cluster/GetClusterStatus": Role.OPERATOR,
    "/matthan.v1.Cluster/DrainNode": Role.ADMIN,
    "/matthan.v1.Events/QueryEvents": Role.VIEWER,
    "/matthan.v1.Events/GetEvent": Role.VIEWER,
    "/matthan.v1.Events/CountEvents": Role.VIEWER,
    "/matthan.v1.Events/StreamEvents": Role.VIEWER,
    "/matthan.v1.Recordings/ListRecordings": Role.VIEWER,
    "/matthan.v1.Recordings/ListHolds": Role.VIEWER,
    "/matthan.v1.Recordings/VerifyRecordings": Role.OPERATOR,
    "/matthan.v1.Recordings/PlaceHold": Role.OPERATOR,
    "/matthan.v1.Recordings/ReleaseHold": Role.OPERATOR,
    "/matthan.v1.Recordings/ExportClip": Role.OPERATOR,
    "/matthan.v1.Jobs/SubmitReprocess": Role.OPERATOR,
    "/matthan.v1.Jobs/GetJob": Role.VIEWER,
    "/matthan.v1.Jobs/ListJobs": Role.VIEWER,
    "/matthan.v1.Jobs/CancelJob": Role.OPERATOR,
    "/matthan.v1.Jobs/WatchJob": Role.VIEWER,
}
RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
TIMESTAMP = "google.protobuf.Timestamp"
CALLERS = {"viewer-all": Role.VIEWER, "operator": Role.OPERATOR, "admin": Role.ADMIN}
NEVER = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNIMPLEMENTED}
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
UNARY_DEADLINE_S = 5.0
STREAM_WAIT_S = 0.5  # a stream that is still open by then was accepted


def served_methods() -> list[tuple[str, MethodDescriptor]]:
    pool = descriptor_pool.Default()
    methods = []
    for name in SURFACE:
        service = pool.FindServiceByName(name)
        methods += [(f"/{service.full_name}/{m.name}", m) for m in service.methods]
    return methods


METHODS = served_methods()
METHOD_IDS = [path for path, _ in METHODS]


class NoSegments:
    """The job manager's executor when nothing may run: its loop is never stepped here,
    so jobs stay queued and only the request paths of the Jobs service are exercised."""

    def submit(self, job, segment):
        raise AssertionError("no segment runs in the surface test")

    def finished(self, handles, timeout_s: float) -> list:
        return []

    def cancel(self, handle) -> None:
        pass

    def capacity(self) -> BatchRoom:
        return BatchRoom(0, "waiting for room: no segment runs in the surface test")


class NoEvents:
    def ingest(self, events) -> int:
        raise AssertionError("no segment runs in the surface test")


class PlainJobs:
    """A `JobControl` (cluster.batch.api) over the plain job manager (the Ray actor wraps the same object)."""

    def __init__(self, manager: JobManager):
        self.manager = manager

    async def submit(self, request: ReprocessRequest, *, submitted_by: str) -> JobView:
        return await asyncio.to_thread(self.manager.submit, request, submitted_by=submitted_by)  # indexes files

    async def get(self, job_id: str) -> JobView:
        return self.manager.get(job_id)

    async def jobs(
        self, *, camera_ids: frozenset[str] | None = None, states: frozenset[JobState] | None = None
    ) -> list[JobView]:
        return self.manager.jobs(camera_ids=camera_ids, states=states)

    async def cancel(self, job_id: str) -> JobView:
        return self.manager.cancel(job_id)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    store = EventStore(tmp_path / "events.sqlite3")
    yield store
    store.close()  # after the gateway (its feed's long-polls read the store until it stops)


@pytest.fixture
def gateway(loop_thread: LoopThread, tmp_path: Path, store: EventStore) -> Iterator[Gateway]:
    """The test gateway of conftest, with Events over a real store holding an event of
    each camera, and Jobs over the plain job manager holding a job of each camera."""
    cameras = {c.id: c for c in default_cameras()}

    def camera(camera_id: str):
        return cameras[camera_id]  # KeyError is a LookupError: "no camera ..."

    manager = JobManager(
        BatchConfig(allowed_dirs=test_file_roots()),
        JobRecordStore(tmp_path / "jobs"),
        NoSegments(),
        NoEvents(),
        camera,
    )
    for camera_id in cameras:
        manager.submit(ReprocessRequest(camera_id, (str(FOOTAGE),)), submitted_by="admin")
    events = StoreQueries(store)
    events.write([event(n, camera=camera_id) for n, camera_id in enumerate(cameras)])
    control = loop_thread.call(lambda: FakeControl(list(cameras.values())))

    async def start() -> GatewayServer:
        server = GatewayServer(
            control, server_config(), jobs=PlainJobs(manager), events=events, event_feed_settings=FEED_SETTINGS
        )
        await server.start()
        return server

    server = loop_thread.run(start())
    gw = Gateway(loop_thread, control, server, f"127.0.0.1:{server.port}")
    yield gw
    gw.close_clients()
    gw.run(server.stop(0))


def test_the_surface_is_what_the_server_registers(gateway) -> None:
    assert set(gateway.server.services) == set(SURFACE), (
        f"the server registers {sorted(gateway.server.services)}, the test covers {sorted(SURFACE)}"
    )


def request_class(method: MethodDescriptor):
    return message_factory.GetMessageClass(method.input_type)


def response_class(method: MethodDescriptor):
    return message_factory.GetMessageClass(method.output_type)


def invoke(channel: grpc.Channel, path: str, method: MethodDescriptor, request, who: str | None):
    """The status code of one call (OK for a stream still open after STREAM_WAIT_S)."""
    call_metadata = metadata(who) if who is not None else ()
    serialize, parse = request_class(method).SerializeToString, response_class(method).FromString
    if method.server_streaming:
        stream = channel.unary_stream(path, request_serializer=serialize, response_deserializer=parse)
        call = stream(request, metadata=call_metadata, timeout=STREAM_WAIT_S)
        try:
            for _ in call:
                break
        except grpc.RpcError as exc:
            code = exc.code()
            # Open until the deadline: the server accepted it and waits for data.
            return grpc.StatusCode.OK if code is grpc.StatusCode.DEADLINE_EXCEEDED else code
        finally:
            call.cancel()
        return grpc.StatusCode.OK
    unary = channel.unary_unary(path, request_serializer=serialize, response_deserializer=parse)
    try:
        unary(request, metadata=call_metadata, timeout=UNARY_DEADLINE_S)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_every_served_method_has_an_access_rule() -> None:
    missing = sorted(set(METHOD_IDS) - set(REQUIRED_ROLE))
    assert not missing, f"methods without a rule in REQUIRED_ROLE: {missing}"
    stale = sorted(set(REQUIRED_ROLE) - set(METHOD_IDS))
    assert not stale, f"rules for methods the server does not serve: {stale}"


@pytest.mark.parametrize(("path", "method"), METHODS, ids=METHOD_IDS)
def test_a_caller_without_a_token_is_unauthenticated(gateway, path: str, method: MethodDescriptor) -> None:
    code = invoke(gateway.channel(), path, method, request_class(method)(), who=None)

    assert code is grpc.StatusCode.UNAUTHENTICATED, f"{path} without a token: {code}"


@pytest.mark.parametrize(("path", "method"), METHODS, ids=METHOD_IDS)
def test_each_role_is_let_through_or_refused_by_the_rule(gateway, path: str, method: MethodDescriptor) -> None:
    needed = REQUIRED_ROLE.get(path)
    assert needed is not None, f"{path} has no rule"
    channel = gateway.channel()
    for who, role in CALLERS.items():
        code = invoke(channel, path, method, request_class(method)(), who=who)
        if RANK[role] < RANK[needed]:
            assert code is grpc.StatusCode.PERMISSION_DENIED, f"{who} ({role}) on {path} needs {needed}: {code}"
        else:
            assert code not in {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED}, (
                f"{who} ({role}) may call {path}: {code}"
            )


# ---------------------------------------------------------------- random messages

_TEXT = st.text(max_size=40) | st.sampled_from(["", "cam-a", "cam-b", "node-1", "x" * 300, "../etc/passwd", "\n"])
_SCALARS = {
    FieldDescriptor.TYPE_STRING: _TEXT,
    FieldDescriptor.TYPE_BYTES: st.binary(max_size=40),
    FieldDescriptor.TYPE_BOOL: st.booleans(),
    FieldDescriptor.TYPE_DOUBLE: st.floats(allow_nan=True, allow_infinity=True),
    FieldDescriptor.TYPE_FLOAT: st.floats(allow_nan=True, allow_infinity=True, width=32),
    FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED64: st.integers(0, 2**64 - 1),
}


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return messages(field.message_type, depth + 1)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values] + [99])
    return _SCALARS[field.type]


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def messages(desc: Descriptor, depth: int = 0) -> st.SearchStrategy:
    """Random instances of `desc`: any subset of its fields, nested messages to depth 3."""
    cls = message_factory.GetMessageClass(desc)
    if depth > 3:
        return st.just(cls())
    optional: dict[str, st.SearchStrategy] = {}
    for field in desc.fields:
        if _is_map(field):
            key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            optional[field.name] = st.dictionaries(_value(key, depth), _value(value, depth), max_size=3)
        elif field.is_repeated:
            optional[field.name] = st.lists(_value(field, depth), max_size=3)
        else:
            optional[field.name] = _value(field, depth)

    def build(values: dict) -> object:
        msg = cls()
        for name, value in values.items():
            field = desc.fields_by_name[name]
            target = getattr(msg, name)
            if _is_map(field):
                for k, v in value.items():
                    if field.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                        target[k].CopyFrom(v)
                    else:
                        target[k] = v
            elif field.is_repeated:
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    for item in value:
                        target.add().CopyFrom(item)
                else:
                    target.extend(value)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                target.CopyFrom(value)
            else:
                setattr(msg, name, value)
        return msg

    return st.fixed_dictionaries({}, optional=optional).map(build)


@pytest.mark.parametrize(("path", "method"), METHODS, ids=METHOD_IDS)
def test_random_messages_get_a_deliberate_status_from_every_role(
    gateway, caplog, path: str, method: MethodDescriptor
) -> None:
    channel = gateway.channel()
    seen: dict[grpc.StatusCode, int] = {}

    @FUZZ
    @given(request=messages(method.input_type), who=st.sampled_from(sorted(CALLERS)))
    def fuzz(request, who: str) -> None:
        code = invoke(channel, path, method, request, who)
        seen[code] = seen.get(code, 0) + 1
        assert code not in NEVER, f"{path} as {who} answered {code} to {request!r:.300}"
        if not method.server_streaming:
            assert code is not grpc.StatusCode.DEADLINE_EXCEEDED, f"{path} ran past its deadline on {request!r:.300}"

    fuzz()
    assert gateway.client().health() == "SERVING", "the server still answers health checks"
    errors = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"{path}: errors logged while fuzzing: {errors} (codes {seen})"


# ---------------------------------------------------------- a scoped viewer out of its scope

SCOPED_VIEWER = "viewer-a"  # sees cam-a only
OUT_OF_SCOPE = "cam-b"


def _name_camera(message) -> bool:
    """Set the camera field of `message` (or of a message field in it) to OUT_OF_SCOPE."""
    fields = message.DESCRIPTOR.fields_by_name
    if "camera_id" in fields:
        message.camera_id = OUT_OF_SCOPE
        return True
    if "camera_ids" in fields:
        message.camera_ids.append(OUT_OF_SCOPE)
        return True
    for field in message.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated:
            inner = message_factory.GetMessageClass(field.message_type)()
            if "camera_ids" in inner.DESCRIPTOR.fields_by_name or "camera_id" in inner.DESCRIPTOR.fields_by_name:
                _name_camera(inner)
                getattr(message, field.name).CopyFrom(inner)
                return True
    return False


def naming_a_camera(method: MethodDescriptor):
    """An otherwise valid request of `method` naming OUT_OF_SCOPE (its timestamps an
    ordered range of the last hour), or None if its request names no camera."""
    request = request_class(method)()
    if not _name_camera(request):
        return None
    stamps = [f for f in method.input_type.fields if f.message_type and f.message_type.full_name == TIMESTAMP]
    for i, field in enumerate(stamps):
        getattr(request, field.name).FromSeconds(int(time.time()) - 3600 + 60 * i)
    return request


def answers(channel: grpc.Channel, path: str, method: MethodDescriptor, request, who: str):
    """(status code, the text of every message answered) of one call."""
    call_metadata = metadata(who)
    serialize, parse = request_class(method).SerializeToString, response_class(method).FromString
    texts: list[str] = []
    if method.server_streaming:
        call = channel.unary_stream(path, request_serializer=serialize, response_deserializer=parse)(
            request, metadata=call_metadata, timeout=STREAM_WAIT_S
        )
        try:
            for message in call:
                texts.append(str(message))
        except grpc.RpcError as exc:
            code = exc.code()
            return (grpc.StatusCode.OK if code is grpc.StatusCode.DEADLINE_EXCEEDED else code), texts
        return grpc.StatusCode.OK, texts
    unary = channel.unary_unary(path, request_serializer=serialize, response_deserializer=parse)
    try:
        texts.append(str(unary(request, metadata=call_metadata, timeout=UNARY_DEADLINE_S)))
    except grpc.RpcError as exc:
        return exc.code(), texts
    return grpc.StatusCode.OK, texts


def test_a_scoped_viewer_naming_another_groups_camera_learns_nothing_of_it(gateway) -> None:
    channel = gateway.channel()
    checked, failures = [], []
    for path, method in METHODS:
        request = naming_a_camera(method)
        if request is None:
            continue
        code, texts = answers(channel, path, method, request, SCOPED_VIEWER)
        checked.append(path)
        if code is grpc.StatusCode.OK:
            if any(OUT_OF_SCOPE in text for text in texts):
                failures.append(f"{path}: answered with {OUT_OF_SCOPE}: {texts[0][:200]!r}")
        elif code not in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):
            failures.append(f"{path}: {code}, not refused for its scope")
    assert len(checked) >= 12, f"the methods whose request names a camera: {checked}"
    assert not failures, f"{SCOPED_VIEWER} naming {OUT_OF_SCOPE}:\n" + "\n".join(failures)


def test_the_same_requests_on_its_own_camera_are_not_refused_for_scope(gateway) -> None:
    """The other side of the test above: scope, not the request, is what refuses."""
    channel = gateway.channel()
    refused = []
    for path, method in METHODS:
        request = naming_a_camera(method)
        if request is None or RANK[REQUIRED_ROLE[path]] > RANK[Role.VIEWER]:
            continue
        own = request_class(method).FromString(request.SerializeToString().replace(b"cam-b", b"cam-a"))
        code, _ = answers(channel, path, method, own, SCOPED_VIEWER)
        if code is grpc.StatusCode.PERMISSION_DENIED:
            refused.append(f"{path}: {code}")
    assert not refused, f"{SCOPED_VIEWER} on its own camera:\n" + "\n".join(refused)
