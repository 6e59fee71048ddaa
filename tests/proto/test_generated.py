"""The committed generated code matches the .proto files, and the protos mirror the config models."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor
from pydantic import BaseModel

from cluster.config import CameraConfig
from cluster.contract.convert import camera_config_to_spec, message_to_dict, spec_to_camera_config
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
    """Every field set to a non-default value."""
    return CameraConfig.model_validate(
        {
            "id": "cam-9",
            "name": "Hẻm 12 Lê Lợi",
            "groups": ["ward-3", "night"],
            "enabled": False,
            "source": {
                "url": "rtsps://u:p@cam.local:8554/live",
                "rtsp_transport": "udp",
                "open_timeout_s": 3.5,
                "read_timeout_s": 2.5,
                "stall_timeout_s": 7.0,
                "loop": True,
                "realtime": False,
                "decode_threads": 4,
                "reconnect": {"initial_s": 1.5, "max_s": 20.0, "multiplier": 3.0, "jitter": 0.1},
            },
            "analysis": {
                "fps": 7.5,
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
            },
            "output": {"ring_size": 64, "jpeg_quality": 70},
        }
    )


def test_full_camera_config_survives_a_round_trip_through_protobuf() -> None:
    config = full_config()
    spec = camera_config_to_spec(config)
    wire = types_pb2.CameraSpec.FromString(spec.SerializeToString())
    assert spec_to_camera_config(wire) == config


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
