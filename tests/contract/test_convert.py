"""Protobuf <-> dataclass conversion (the parts not covered by tests/proto)."""

from __future__ import annotations

import logging

import pytest

from cluster.contract import DataLoss, LossReason, RequestError
from cluster.contract.convert import (
    apply_update,
    camera_config_to_spec,
    camera_status_from_proto,
    camera_status_to_proto,
    cluster_status_from_proto,
    cluster_status_to_proto,
    data_loss_from_proto,
    detection_batch_from_proto,
    detection_response,
    jpeg_frame_from_proto,
    jpeg_frame_to_proto,
    spec_to_camera_config,
)
from cluster.contract.wire import dict_to_message
from cluster.domain import Box, Detection, DetectionBatch, JpegFrame
from cluster.proto.matthan.v1 import types_pb2
from tests.gateway.fakes import FakeCamera, FakeControl, camera_config


def test_detection_batch_round_trip_keeps_boxes_tracks_and_times() -> None:
    batch = DetectionBatch(
        camera_id="cam-a",
        sequence=7,
        frame_sequence=140,
        capture_time=1_700_000_000.123456,
        publish_time=1_700_000_000.2,
        detections=(
            Detection(2, "car", 0.75, Box(0.5, 0.25, 0.125, 0.0625), track_id=None),
            Detection(0, "person", 0.5, Box(0.0, 0.0, 1.0, 1.0), track_id=12),
        ),
        motion=True,
        motion_ratio=0.25,
    )
    loss = DataLoss(LossReason.RING_OVERWRITTEN, 3, 6)
    response = detection_response(batch, loss)
    assert detection_batch_from_proto(response.batch) == batch, "exact for values float32 can hold"
    assert data_loss_from_proto(response.data_loss) == loss
    assert not response.batch.detections[0].HasField("track_id"), "no track id stays absent, not 0"
    assert response.batch.capture_time.nanos == 123456000


def test_jpeg_frame_round_trip() -> None:
    frame = JpegFrame("cam-a", 9, 1_700_000_000.5, 640, 360, b"\xff\xd8x\xff\xd9")
    msg = jpeg_frame_to_proto(frame, dropped_slow=3, skipped_rate=4)
    assert (msg.dropped_slow, msg.skipped_rate) == (3, 4)
    assert jpeg_frame_from_proto(msg) == frame


def test_camera_status_and_cluster_status_round_trip() -> None:
    cam = FakeCamera(camera_config("cam-a"), clock=lambda: 1_700_000_000.0)
    status = cam.status()
    assert camera_status_from_proto("cam-a", camera_status_to_proto(status)) == status
    import asyncio

    cluster = asyncio.run(FakeControl([camera_config("cam-a")]).cluster_status())
    assert cluster_status_from_proto(cluster_status_to_proto(cluster)) == cluster


def test_dict_to_message_is_strict_for_clients_and_lenient_for_the_server(caplog) -> None:
    data = {"id": "cam-a", "source": {"url": "/v.mp4", "future_option": 1}}
    with pytest.raises(KeyError, match="future_option"):
        dict_to_message(data, types_pb2.CameraSpec())
    with caplog.at_level(logging.WARNING):
        spec = dict_to_message(data, types_pb2.CameraSpec(), strict=False)
    assert spec.source.url == "/v.mp4"
    assert "future_option" in caplog.text, "the server warns about the drift"


def test_update_must_name_the_same_camera() -> None:
    with pytest.raises(RequestError) as err:
        apply_update(camera_config("cam-a"), types_pb2.CameraSpec(id="cam-b"), ["name"])
    assert err.value.field == "camera.id"


def test_update_mask_can_replace_zones_and_clear_the_detector() -> None:
    current = camera_config("cam-a").model_copy(deep=True)
    current = current.model_validate({**current.model_dump(), "analysis": {"detector": {"model": "/m/y.cfg"}}})
    spec = types_pb2.CameraSpec(
        id="cam-a",
        analysis=types_pb2.AnalysisSpec(
            motion=types_pb2.MotionSpec(
                masks=[types_pb2.Polygon(points=[types_pb2.Point(x=x, y=y) for x, y in ((0, 0), (1, 0), (1, 1))])]
            )
        ),
    )
    updated = apply_update(current, spec, ["analysis.motion.masks", "analysis.detector"])
    assert updated.analysis.motion.masks == [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]]
    assert updated.analysis.detector is None, "a listed but unset message returns to its default"
    assert updated.source == current.source


def points(*pairs: tuple[float, float]) -> list[types_pb2.Point]:
    return [types_pb2.Point(x=x, y=y) for x, y in pairs]


def test_shapes_are_points_and_polygons_wherever_they_appear() -> None:
    spec = types_pb2.CameraSpec(
        id="cam-a",
        source=types_pb2.SourceSpec(url="/v/a.mp4"),
        rules=types_pb2.RulesSpec(
            zones=[
                types_pb2.ZoneRuleSpec(name="gate", polygon=types_pb2.Polygon(points=points((0, 0), (1, 0), (1, 1))))
            ],
            lines=[
                types_pb2.LineRuleSpec(name="ramp", start=types_pb2.Point(x=0, y=0.5), end=types_pb2.Point(x=1, y=0.5))
            ],
        ),
        privacy=types_pb2.PrivacySpec(masks=[types_pb2.Polygon(points=points((0.5, 0), (1, 0), (1, 0.5)))]),
    )
    config = spec_to_camera_config(spec)
    assert config.rules.zones[0].polygon == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)], "a single Polygon: a point list"
    assert (config.rules.lines[0].start, config.rules.lines[0].end) == ((0.0, 0.5), (1.0, 0.5)), "a Point: a pair"
    assert config.privacy.masks == [[(0.5, 0.0), (1.0, 0.0), (1.0, 0.5)]], "repeated Polygons: point lists"
    assert spec_to_camera_config(camera_config_to_spec(config)) == config, "and back"


def test_an_update_can_replace_the_rules_alone() -> None:
    current = camera_config("cam-a")
    zone = types_pb2.ZoneRuleSpec(name="yard", polygon=types_pb2.Polygon(points=points((0, 0), (1, 0), (1, 1))))
    spec = types_pb2.CameraSpec(id="cam-a", rules=types_pb2.RulesSpec(zones=[zone]))
    updated = apply_update(current, spec, ["rules"])
    assert [z.name for z in updated.rules.zones] == ["yard"] and updated.source == current.source


@pytest.mark.parametrize(
    "rules, field, reason",
    [
        (
            types_pb2.RulesSpec(
                zones=[
                    types_pb2.ZoneRuleSpec(
                        name="z", polygon=types_pb2.Polygon(points=points((0, 0), (1, 1), (1, 0), (0, 1)))
                    )
                ]
            ),
            "camera.rules.zones.0.polygon",
            "the polygon intersects itself",
        ),
        (
            types_pb2.RulesSpec(
                lines=[
                    types_pb2.LineRuleSpec(
                        name="l", start=types_pb2.Point(x=0.3, y=0.3), end=types_pb2.Point(x=0.3, y=0.3)
                    )
                ]
            ),
            "camera.rules.lines.0",
            "has length 0",
        ),
        (
            types_pb2.RulesSpec(
                zones=[
                    types_pb2.ZoneRuleSpec(
                        name="z",
                        polygon=types_pb2.Polygon(points=points((0, 0), (1, 0), (1, 1))),
                        filters=types_pb2.RuleFilterSpec(classes=["car"]),
                    )
                ]
            ),
            "camera.rules.zones.0.filters.classes.0",
            "unknown class 'car'",
        ),
        (
            types_pb2.RulesSpec(
                zones=[
                    types_pb2.ZoneRuleSpec(
                        name="z",
                        polygon=types_pb2.Polygon(points=points((0, 0), (1, 0), (1, 1))),
                        filters=types_pb2.RuleFilterSpec(
                            windows=[types_pb2.TimeWindowSpec(start="23:00", end="23:00")]
                        ),
                    )
                ]
            ),
            "camera.rules.zones.0.filters.windows.0",
            "the window would be empty",
        ),
    ],
)
def test_bad_rules_in_a_request_name_the_field(rules: types_pb2.RulesSpec, field: str, reason: str) -> None:
    spec = types_pb2.CameraSpec(id="cam-a", source=types_pb2.SourceSpec(url="/v/a.mp4"), rules=rules)
    with pytest.raises(RequestError) as err:
        spec_to_camera_config(spec)
    assert err.value.field == field and reason in err.value.message, f"{err.value.field}: {err.value.message}"


def test_viewers_see_file_names_not_server_directories(tmp_path) -> None:
    import dataclasses

    from cluster.config import CameraConfig
    from cluster.contract.convert import camera_view_to_proto
    from cluster.control import CameraView

    clip = tmp_path / "private" / "alley.mp4"
    config = CameraConfig.model_validate({"id": "cam-f", "source": {"url": str(clip)}})
    status = dataclasses.replace(
        FakeCamera(config, clock=lambda: 1.0).status(), reason=f"could not open {clip}: No such file or directory"
    )
    view = CameraView(config=config, status=status, node_id=None)

    seen = camera_view_to_proto(view, redact=True)
    admin = camera_view_to_proto(view, redact=False)

    assert seen.spec.source.url == "alley.mp4" and str(tmp_path) not in seen.status.reason, seen
    assert admin.spec.source.url == str(clip) and str(clip) in admin.status.reason, "admins keep the real path"
