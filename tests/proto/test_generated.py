"""The committed generated code matches the .proto files, and the protos mirror the config models."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor
from pydantic import BaseModel

from cluster.config import CameraConfig
from cluster.contract.convert import camera_config_to_spec, spec_to_camera_config
from cluster.contract.wire import message_to_dict
from cluster.proto import generate
from cluster.proto.matthan.v1 import types_pb2

COMMITTED = generate.PACKAGE_DIR


def committed_files() -> dict[str, str]:
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in COMMITTED.iterdir()
        if p.name.endswith(generate.GENERATED_SUFFIXES)
    }


def test_committed_generated_code_is_not_stale(tmp_path: Path) -> None:
    fresh = {p.name: p.read_text(encoding="utf-8") for p in generate.generate(tmp_path)}
    committed = committed_files()
    assert sorted(fresh) == sorted(committed), (
        "generated file set differs from the committed one; run `python -m cluster.proto.generate`"
    )
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated files {stale}; run `python -m cluster.proto.generate`"


def test_generated_imports_are_package_relative() -> None:
    offenders = [
        name
        for name, text in committed_files().items()
        if any(line.startswith(("from matthan", "import matthan")) for line in text.splitlines())
    ]
    assert not offenders, f"absolute matthan imports left in {offenders}"


def _model_of(annotation: object) -> type[BaseModel] | None:
    """The pydantic model inside `X`, `X | None`, `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        model = _model_of(arg)
        if model is not None:
            return model
    return None


def _mismatches(model: type[BaseModel], descriptor: Descriptor, path: str = "") -> list[str]:
    problems = []
    proto_fields = set(descriptor.fields_by_name)
    for name, info in model.model_fields.items():
        if name not in proto_fields:
            problems.append(f"{path}{name}: in {model.__name__} but not in {descriptor.full_name}")
            continue
        sub = _model_of(info.annotation)
        field = descriptor.fields_by_name[name]
        if sub is not None:
            if field.message_type is None:
                problems.append(f"{path}{name}: a model in config but a scalar in proto")
            else:
                problems.extend(_mismatches(sub, field.message_type, f"{path}{name}."))
    problems.extend(
        f"{path}{name}: in {descriptor.full_name} but not in {model.__name__}"
        for name in proto_fields - set(model.model_fields)
    )
    return problems


def test_camera_spec_mirrors_camera_config_field_for_field() -> None:
    problems = _mismatches(CameraConfig, types_pb2.CameraSpec.DESCRIPTOR)
    assert not problems, "proto and config models out of sync:\n" + "\n".join(problems)


def full_config() -> CameraConfig:
    """Every field set to a non-default value (the event sections: `full_event_config`)."""
    return CameraConfig.model_validate(FULL)


def full_event_config() -> CameraConfig:
    """`full_config` with every key of the event sections set too; rules need the tracker,
    which `full_config` turns off."""
    tracker_on = FULL["analysis"] | {"tracker": FULL["analysis"]["tracker"] | {"enabled": True}}
    return CameraConfig.model_validate(FULL | {"analysis": tracker_on} | EVENT_SECTIONS)


FULL: dict = {
    "id": "cam-9",
    "name": "Hẻm 12 Lê Lợi",
    "groups": ["ward-3", "night"],
    "enabled": False,
    "priority": 80,
    "source": {
        "url": "rtsps://u:p@cam.local:8554/live",
        "rtsp_transport": "udp",
        "open_timeout_s": 3.5,
        "read_timeout_s": 2.5,
        "stall_timeout_s": 7.0,
        "loop": True,
        "realtime": False,
        "decode_threads": 4,
        "skip_loop_filter": "all",
        "reconnect": {"initial_s": 1.5, "max_s": 20.0, "multiplier": 3.0, "jitter": 0.1},
    },
    "analysis": {
        "fps": 7.5,
        "min_fps": 2.0,
        "width": 800,
        "motion": {
            "enabled": False,
            "width": 256,
            "history": 300,
            "var_threshold": 16.0,
            "min_area": 0.004,
            "masks": [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.25]], [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.2]]],
            "gate_detector": False,
            "report_regions": False,
            "region_min_area": 0.001,
        },
        "detector": {
            "format": "onnx",
            "model": "/models/y.onnx",
            "weights": "/models/y.weights",
            "names": "/models/coco.names",
            "onnx_layout": "yolov8",
            "input_size": 416,
            "confidence": 0.4,
            "nms": 0.5,
            "classes": ["person", "motorbike"],
            "max_fps": 1.5,
        },
        "tracker": {
            "enabled": False,
            "method": "centroid",
            "iou_threshold": 0.3,
            "max_distance": 0.2,
            "max_age_s": 5.0,
            "per_class": False,
        },
        "opencv_threads": 2,
    },
    "output": {
        "ring_size": 64,
        "jpeg_quality": 70,
        "event_ring_size": 256,
        "thumbnail_width": 240,
        "thumbnail_quality": 60,
    },
}

EVENT_SECTIONS: dict = {
    "timezone": "Asia/Bangkok",
    "rules": {
        "zones": [
            {
                "name": "cổng",
                "polygon": [[0.1, 0.1], [0.6, 0.1], [0.6, 0.7], [0.1, 0.7]],
                "anchor": "center",
                "inertia": 5,
                "report_enter_leave": False,
                "loitering_s": 45.0,
                "occupancy_max": 3,
                "filters": {
                    "classes": ["person"],
                    "min_confidence": 0.5,
                    "min_area": 0.01,
                    "max_area": 0.5,
                    "windows": [{"start": "22:00", "end": "05:30", "days": ["fri", "sat"]}],
                },
                "severity": "alert",
            }
        ],
        "lines": [
            {
                "name": "ramp",
                "start": [0.0, 0.6],
                "end": [1.0, 0.55],
                "a_side": "right",
                "directions": ["b_to_a"],
                "anchor": "top-center",
                "hysteresis": 0.05,
                "filters": {"classes": ["motorbike"]},
                "severity": "alert",
            }
        ],
        "update_interval_s": 30.0,
    },
    "privacy": {"masks": [[[0.7, 0.0], [1.0, 0.0], [1.0, 0.3]]], "mode": "pixelate", "pixelate_cells": 12},
    "health": {
        "stream_lost_after_s": 30.0,
        "stream_severity": "info",
        "tamper": {
            "enabled": False,
            "fps": 0.5,
            "width": 128,
            "learn_s": 20.0,
            "refresh_s": 1200.0,
            "min_duration_s": 8.0,
            "clear_s": 6.0,
            "black_max_brightness": 12.0,
            "uniform_max_stddev": 3.0,
            "defocus_ratio": 0.2,
            "moved_max_similarity": 0.4,
            "moved_max_edge_share": 0.6,
            "min_still_edges": 0.01,
            "severity": "info",
        },
    },
    "recording": {
        "mode": "motion-only",
        "pre_roll_s": 3.0,
        "post_roll_s": 20.0,
        "segment_s": 30.0,
        "directory": "/srv/recordings",
        "retention": {
            "continuous_days": 3.0,
            "motion_days": 10.0,
            "events_days": 60.0,
            "max_bytes": 50_000_000_000,
            "interval_s": 120.0,
        },
        "queue_packets": 4096,
        "min_free_bytes": 1_000_000_000,
        "retry_s": 2.0,
    },
}


@pytest.mark.parametrize("make", [full_config, full_event_config])
def test_full_camera_config_survives_a_round_trip_through_protobuf(make) -> None:
    config = make()
    spec = camera_config_to_spec(config)
    wire = types_pb2.CameraSpec.FromString(spec.SerializeToString())
    assert spec_to_camera_config(wire) == config


def test_the_full_configs_set_every_field_to_a_non_default_value() -> None:
    """So the round trips above cover every key: each field of each model is set away from
    its default at least once (a new key must be added to FULL or EVENT_SECTIONS)."""

    def fields_set(model: BaseModel, found: set[str]) -> set[str]:
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            items = value if isinstance(value, list) else [value]
            if items and isinstance(items[0], BaseModel):
                for item in items:
                    fields_set(item, found)
                found.add(f"{type(model).__name__}.{name}")
            elif info.is_required() or value != info.get_default(call_default_factory=True):
                found.add(f"{type(model).__name__}.{name}")
        return found

    def every_field(model: type[BaseModel], found: set[str]) -> set[str]:
        for name, info in model.model_fields.items():
            found.add(f"{model.__name__}.{name}")
            sub = _model_of(info.annotation)
            if sub is not None and f"{sub.__name__}.*" not in found:
                found.add(f"{sub.__name__}.*")
                every_field(sub, found)
        return {key for key in found if not key.endswith(".*")}

    covered = fields_set(full_config(), set()) | fields_set(full_event_config(), set())
    missing = sorted(every_field(CameraConfig, set()) - covered)
    assert missing == [], f"no full config sets these keys away from their defaults: {missing}"


def test_unset_spec_fields_take_config_defaults() -> None:
    spec = types_pb2.CameraSpec(id="cam-1", source=types_pb2.SourceSpec(url="/videos/a.mp4"))
    assert message_to_dict(spec) == {"id": "cam-1", "source": {"url": "/videos/a.mp4"}}
    config = spec_to_camera_config(spec)
    assert config == CameraConfig(id="cam-1", source={"url": "/videos/a.mp4"}), "defaults must come from the model"


@pytest.mark.parametrize("proto", sorted(p.name for p in COMMITTED.glob("*.proto")))
def test_every_rpc_is_documented(proto: str) -> None:
    # A comment line right above every `rpc`: the .proto is the contract clients read.
    lines = (COMMITTED / proto).read_text(encoding="utf-8").splitlines()
    undocumented = [
        line.strip()
        for i, line in enumerate(lines)
        if line.strip().startswith("rpc ") and not lines[i - 1].strip().startswith("//")
    ]
    assert not undocumented, f"{proto}: rpcs without a comment: {undocumented}"
