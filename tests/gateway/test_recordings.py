"""matthan.v1.Recordings through a real gRPC server and the Python client, over a real
recording of the shared clip: list, verify, holds, and exports that ffprobe plays with
the privacy mask black, plus the status codes of bad requests and missing roles."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import grpc
import numpy as np
import pytest

from cluster.client.errors import ClientError
from cluster.config import CameraConfig
from cluster.recordings.chain import EntryKind, read_chain
from tests.recordings.footage import T0, record_clip
from tests.video.conftest import car_clip  # noqa: F401 - a fixture, found by pytest by name

# The top-left quarter of the picture is private.
MASK = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]


def _camera(camera_id: str, groups: list[str], root: Path) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": camera_id,
            "groups": groups,
            "source": {"url": f"rtsp://cams.local/{camera_id}"},
            "privacy": {"masks": [MASK]},
            "recording": {"mode": "continuous", "directory": str(root)},
        }
    )


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory, media: Path) -> Path:
    root = tmp_path_factory.mktemp("recordings")
    record_clip(root, "cam-a", media / "car-detection.mp4", start=T0, seconds=20.0, segment_s=4.0)
    return root


@pytest.fixture
def root(footage: Path, tmp_path: Path) -> Path:
    """A copy per test, so tampering stays in its test."""
    import shutil

    copy = tmp_path / "recordings"
    shutil.copytree(footage, copy)
    return copy


@pytest.fixture
def gateway(make_gateway, root: Path):
    return make_gateway([_camera("cam-a", ["ward-1"], root), _camera("cam-b", ["ward-2"], root)])


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> grpc.StatusCode:
    return excinfo.value.code


def _probe(path: Path) -> dict:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration,format_name:stream=codec_name,width,height",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def _mean_levels(path: Path) -> tuple[float, float]:
    """Mean brightness inside the mask (top-left quarter) and in the bottom-right quarter."""
    inside, outside = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="gray")
            h, w = image.shape
            inside.append(float(image[: h // 2 - 2, : w // 2 - 2].mean()))
            outside.append(float(image[h // 2 + 2 :, w // 2 + 2 :].mean()))
    return float(np.max(inside)), float(np.mean(outside))


def test_list_gives_ranges_and_segments(gateway) -> None:
    timeline = gateway.client("viewer-a").recordings.timeline("cam-a", T0 - 10, T0 + 100)
    assert len(timeline.ranges) == 1, f"one contiguous range, got {timeline.ranges}"
    assert timeline.ranges[0].start == pytest.approx(T0), "it starts with the first frame"
    assert timeline.ranges[0].end - T0 == pytest.approx(20.0, abs=0.1), "and ends where the recording stopped"
    assert [s.index for s in timeline.segments] == sorted(s.index for s in timeline.segments), "segments in order"
    assert timeline.segments[0].sha256 and timeline.segments[0].entry_hash, "each with its hashes"


def test_bad_ranges_and_cameras_get_the_right_status(gateway) -> None:
    recordings = gateway.client("admin").recordings
    with pytest.raises(ClientError) as backwards:
        recordings.timeline("cam-a", T0 + 10, T0)
    assert _code(backwards) is grpc.StatusCode.INVALID_ARGUMENT and "to:" in backwards.value.details, (
        f"a backwards range names `to`: {backwards.value.details}"
    )
    with pytest.raises(ClientError) as unknown:
        recordings.timeline("cam-zz", T0, T0 + 10)
    assert _code(unknown) is grpc.StatusCode.NOT_FOUND and "cam-zz" in unknown.value.details, "an unknown camera"
    with pytest.raises(ClientError) as malformed:
        recordings.timeline("Cam A", T0, T0 + 10)
    assert _code(malformed) is grpc.StatusCode.INVALID_ARGUMENT and "camera_id" in malformed.value.details, (
        "a malformed id names camera_id"
    )
    with pytest.raises(ClientError) as scoped:
        gateway.client("viewer-a").recordings.timeline("cam-b", T0, T0 + 10)
    assert _code(scoped) is grpc.StatusCode.PERMISSION_DENIED, "a scoped viewer sees only its cameras"


def test_masked_export_plays_with_the_mask_black(gateway, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    exported = gateway.client("operator").recordings.export("cam-a", T0 + 3.0, T0 + 11.0, clip, reason="case 114")
    probe = _probe(clip)
    assert probe["streams"][0]["codec_name"] == "h264", f"an H.264 MP4: {probe}"
    assert float(probe["format"]["duration"]) == pytest.approx(8.0, abs=0.2), f"8 s asked: {probe['format']}"
    inside, outside = _mean_levels(clip)
    assert inside < 20, f"the masked area is black in every frame (brightest mean {inside:.1f})"
    assert outside > 40, f"the rest of the picture is not (mean {outside:.1f})"
    manifest = exported.manifest
    assert manifest["masked"] is True and manifest["exported_by"] == "operator", "who and how is in the manifest"
    assert manifest["clip"]["sha256"] and manifest["chain_head"]["hash"], "with the clip's hash and the chain head"
    assert [s["index"] for s in manifest["segments"]], "and the segments it was cut from"
    assert json.loads(exported.manifest_path.read_text()) == manifest, "the manifest is written beside the clip"


def test_unmasked_export_needs_admin_and_a_reason_and_is_audited(gateway, root: Path, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    with pytest.raises(ClientError) as viewer:
        gateway.client("viewer-a").recordings.export("cam-a", T0, T0 + 4, clip)
    assert _code(viewer) is grpc.StatusCode.PERMISSION_DENIED and "operator" in viewer.value.details, (
        f"a viewer may not export at all: {viewer.value.details}"
    )
    with pytest.raises(ClientError) as operator:
        gateway.client("operator").recordings.export("cam-a", T0, T0 + 4, clip, unmasked=True, reason="court")
    assert _code(operator) is grpc.StatusCode.PERMISSION_DENIED and "admin" in operator.value.details, (
        "an operator may not export without the masks"
    )
    with pytest.raises(ClientError) as no_reason:
        gateway.client("admin").recordings.export("cam-a", T0, T0 + 4, clip, unmasked=True)
    assert _code(no_reason) is grpc.StatusCode.INVALID_ARGUMENT and "reason" in no_reason.value.details, (
        "an unmasked export names the missing reason"
    )
    assert not clip.exists(), "a refused export leaves no file"
    exported = gateway.client("admin").recordings.export(
        "cam-a", T0, T0 + 4, clip, unmasked=True, reason="court order 7/2026"
    )
    inside, _ = _mean_levels(clip)
    assert inside > 40, f"unmasked: the private area shows (mean {inside:.1f})"
    assert exported.manifest["masked"] is False, "the manifest says it is unmasked"
    audit = [json.loads(line) for line in (root / "cam-a" / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["by"], a["masked"], a["reason"]) for a in audit] == [
        ("export", "admin", False, "court order 7/2026")
    ], f"the unmasked export is audited with who and why: {audit}"


def test_export_of_nothing_is_not_found_and_of_a_changed_segment_data_loss(gateway, root: Path, tmp_path: Path) -> None:
    recordings = gateway.client("operator").recordings
    with pytest.raises(ClientError) as nothing:
        recordings.export("cam-a", T0 + 1000, T0 + 1010, tmp_path / "a.mp4")
    assert _code(nothing) is grpc.StatusCode.NOT_FOUND, f"no footage there: {nothing.value}"
    segment = next(e for e in read_chain(root / "cam-a") if e.kind is EntryKind.SEGMENT)
    path = root / "cam-a" / segment.file
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ClientError) as changed:
        recordings.export("cam-a", T0, T0 + 3, tmp_path / "b.mp4")
    assert _code(changed) is grpc.StatusCode.DATA_LOSS and segment.file.split("/")[-1] in changed.value.details, (
        f"a clip is never cut from changed footage, and the segment is named: {changed.value.details}"
    )


def test_verify_reports_the_first_broken_link(gateway, root: Path) -> None:
    recordings = gateway.client("operator").recordings
    assert recordings.verify("cam-a").ok, "an untouched recording verifies"
    victim = [e for e in read_chain(root / "cam-a") if e.kind is EntryKind.SEGMENT][2]
    (root / "cam-a" / victim.file).unlink()
    check = recordings.verify("cam-a")
    assert not check.ok and check.first_broken_index == victim.index, f"entry {victim.index} is named: {check}"
    assert "missing" in check.problems[0], f"and what is wrong with it: {check.problems}"
    with pytest.raises(ClientError) as viewer:
        gateway.client("viewer-a").recordings.verify("cam-a")
    assert _code(viewer) is grpc.StatusCode.PERMISSION_DENIED, "verification is for operators"


def test_holds_are_placed_listed_and_released_with_reasons(gateway) -> None:
    recordings = gateway.client("operator").recordings
    with pytest.raises(ClientError) as no_reason:
        recordings.place_hold("cam-a", start=T0, end=T0 + 5, reason=" ")
    assert _code(no_reason) is grpc.StatusCode.INVALID_ARGUMENT and "reason" in no_reason.value.details, "names reason"
    with pytest.raises(ClientError) as viewer:
        gateway.client("viewer-a").recordings.place_hold("cam-a", start=T0, end=T0 + 5, reason="x")
    assert _code(viewer) is grpc.StatusCode.PERMISSION_DENIED, "holds are for operators"
    hold = recordings.place_hold("cam-a", start=T0, end=T0 + 5, reason="collision at the alley")
    assert [h.hold_id for h in recordings.holds("cam-a")] == [hold.hold_id], "the hold is listed"
    held = [s.held for s in recordings.timeline("cam-a", T0, T0 + 30).segments]
    assert held[0] and not held[-1], f"segments under it are marked held: {held}"
    recordings.release_hold("cam-a", hold.hold_id, reason="case closed")
    assert recordings.holds("cam-a") == [], "released"
    with pytest.raises(ClientError) as unknown:
        recordings.release_hold("cam-a", hold.hold_id, reason="again")
    assert _code(unknown) is grpc.StatusCode.NOT_FOUND and "hold_id" in unknown.value.details, "unknown hold"


def test_a_hold_on_an_event_keeps_its_span_with_pre_and_post_roll(loop_thread, root: Path, tmp_path: Path) -> None:
    from cluster.domain import Event, EventType, Severity
    from cluster.events.store import EventStore
    from cluster.gateway.recordings_service import event_store_lookup
    from cluster.gateway.server import GatewayServer
    from tests.gateway.conftest import Gateway, server_config
    from tests.gateway.fakes import FakeControl

    path = tmp_path / "events.sqlite3"
    event = Event.new(
        "cam-a",
        EventType.LINE_CROSSING,
        Severity.ALERT,
        "ra-duong-lon",
        start_time=T0 + 8.0,
        start_pts=8.0,
        end_time=T0 + 9.0,
        end_pts=9.0,
        class_name="motorbike",
        track_id=7,
    )
    store = EventStore(path)
    store.write([event])
    store.close()
    camera = _camera("cam-a", ["ward-1"], root)  # pre_roll_s 5, post_roll_s 10 (the defaults)
    control = loop_thread.call(lambda: FakeControl([camera]))

    async def start() -> GatewayServer:
        server = GatewayServer(control, server_config(), event_lookup=event_store_lookup(path))
        await server.start()
        return server

    server = loop_thread.run(start())
    gateway = Gateway(loop_thread, control, server, f"127.0.0.1:{server.port}")
    try:
        recordings = gateway.client("operator").recordings
        hold = recordings.place_hold("cam-a", event_id=event.event_id, reason="the crossing, case 114")
        assert (hold.start - T0, hold.end - T0) == pytest.approx((3.0, 19.0)), (
            f"the event's span with the camera's pre- and post-roll: {hold.start - T0}..{hold.end - T0}"
        )
        assert hold.event_id == event.event_id, "the hold names its event"
        with pytest.raises(ClientError) as unknown:
            recordings.place_hold("cam-a", event_id="no-such-event", reason="x")
        assert _code(unknown) is grpc.StatusCode.NOT_FOUND and "event_id" in unknown.value.details, "unknown event"
        with pytest.raises(ClientError) as both:
            recordings.place_hold("cam-a", event_id=event.event_id, start=T0, end=T0 + 1, reason="x")
        assert _code(both) is grpc.StatusCode.INVALID_ARGUMENT and "event_id" in both.value.details, "not both"
    finally:
        gateway.close_clients()
        loop_thread.run(server.stop(0))
