"""Typed, strict configuration models (one file per section) and the YAML loader."""

from .analysis import AnalysisConfig, DetectorConfig, MotionConfig, TrackerConfig
from .camera import CameraConfig, OutputConfig
from .events import EventsConfig
from .metrics import MetricsConfig
from .root import ConfigError, MatthanConfig, format_validation_error, load_config, parse_config
from .runtime import RayConfig, RuntimeConfig
from .scheduler import SchedulerConfig
from .server import KeepaliveConfig, LimitsConfig, Role, ServerConfig, TlsConfig, TokenConfig
from .source import ReconnectConfig, SourceConfig, redact_url

__all__ = [
    "AnalysisConfig",
    "CameraConfig",
    "ConfigError",
    "DetectorConfig",
    "EventsConfig",
    "KeepaliveConfig",
    "LimitsConfig",
    "MatthanConfig",
    "MetricsConfig",
    "MotionConfig",
    "OutputConfig",
    "RayConfig",
    "ReconnectConfig",
    "Role",
    "RuntimeConfig",
    "SchedulerConfig",
    "ServerConfig",
    "SourceConfig",
    "TlsConfig",
    "TokenConfig",
    "TrackerConfig",
    "format_validation_error",
    "load_config",
    "parse_config",
    "redact_url",
]
