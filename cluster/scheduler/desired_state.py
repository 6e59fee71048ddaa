"""Persistence of the desired camera set (what operators added, changed, removed).

The YAML config seeds it on first start; afterwards the persisted set wins, so
cameras added over gRPC survive a restart. Writes are atomic
(`cluster.support.atomic.write_json_atomically`: tmp + fsync + rename).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..config import CameraConfig, ConfigError, format_validation_error
from ..support.atomic import write_json_atomically

logger = logging.getLogger(__name__)

_CAMERAS = TypeAdapter(list[CameraConfig])
FORMAT_VERSION = 1


class DesiredStateStore:
    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> list[CameraConfig] | None:
        """The persisted cameras, or None when nothing was persisted yet."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{self.path}: cannot read persisted camera set: {exc}") from None
        if not isinstance(raw, dict) or raw.get("version") != FORMAT_VERSION:
            raise ConfigError(f"{self.path}: unknown persisted state format (expected version {FORMAT_VERSION})")
        try:
            return _CAMERAS.validate_python(raw.get("cameras", []))
        except ValidationError as exc:
            raise ConfigError(f"{self.path}: {format_validation_error(exc, prefix='cameras.')}") from None

    def save(self, cameras: list[CameraConfig]) -> None:
        write_json_atomically(
            self.path, {"version": FORMAT_VERSION, "cameras": [c.model_dump(mode="json") for c in cameras]}
        )
