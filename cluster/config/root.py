"""The whole config file and its loader."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from .base import StrictModel
from .camera import CameraConfig
from .events import EventsConfig
from .metrics import MetricsConfig
from .recording import RecordingStorageConfig
from .runtime import RuntimeConfig
from .scheduler import SchedulerConfig
from .server import ServerConfig


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key and the reason."""


class MatthanConfig(StrictModel):
    """Top level of `cameras.yaml`."""

    cameras: list[CameraConfig] = Field(default_factory=list, description="The cameras to run.")
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig, description="Process and Ray settings.")
    scheduler: SchedulerConfig = Field(
        default_factory=SchedulerConfig, description="Placement, balancing and healing of camera actors."
    )
    server: ServerConfig | None = Field(
        None, description="gRPC front door (listen address, TLS, tokens); None runs no gateway."
    )
    events: EventsConfig = Field(
        default_factory=EventsConfig, description="The event store: its file, batching, buffer and retention."
    )
    metrics: MetricsConfig = Field(
        default_factory=MetricsConfig, description="Prometheus /metrics endpoint of the front door."
    )
    recordings: RecordingStorageConfig = Field(
        default_factory=RecordingStorageConfig,
        description="Where cameras record when their recording.directory is not set (per group, or the default).",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> MatthanConfig:
        seen: set[str] = set()
        for cam in self.cameras:
            if cam.id in seen:
                raise ValueError(f"duplicate camera id {cam.id!r}")
            seen.add(cam.id)
        return self


def with_recording_directories(config: MatthanConfig) -> MatthanConfig:
    """A copy whose recording cameras all name their directory (absolute), resolved from
    `recordings:` and `runtime.state_dir`: the camera actors run in other processes,
    which know neither."""
    cameras = []
    for camera in config.cameras:
        resolved = camera
        if camera.recording.directory is None:
            directory = config.recordings.directory_for(camera.groups, config.runtime.state_dir)
            recording = camera.recording.model_copy(update={"directory": directory})
            resolved = camera.model_copy(update={"recording": recording})
        cameras.append(resolved)
    return config.model_copy(update={"cameras": cameras})


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line per problem: `cameras.2.source.url: unsupported URL scheme 'ftp' ...`."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{prefix}{loc}: {msg}")
    return "; ".join(lines)


def parse_config(data: object, origin: str = "config") -> MatthanConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: top level must be a mapping, got {type(data).__name__}")
    try:
        return MatthanConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {format_validation_error(exc)}") from None


def load_config(path: str | Path) -> MatthanConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    return parse_config(data, origin=str(path))
