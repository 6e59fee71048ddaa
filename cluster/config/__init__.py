"""Typed, strict configuration models (one file per section) and the YAML loader."""

from .analysis import AnalysisConfig, DetectorConfig, MotionConfig, TrackerConfig
from .camera import CameraConfig, OutputConfig
from .events import EventsConfig
from .health import HealthConfig, TamperConfig
from .metrics import MetricsConfig
from .privacy import PrivacyConfig
from .recording import RecordingConfig, RecordingMode, RecordingStorageConfig, RetentionConfig
from .root import (
    ConfigError,
    MatthanConfig,
    format_validation_error,
    load_config,
    parse_config,
    with_recording_directories,
)
from .rules import LineRule, RuleFilter, RulesConfig, TimeWindow, ZoneRule
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
    "HealthConfig",
    "KeepaliveConfig",
    "LimitsConfig",
    "LineRule",
    "MatthanConfig",
    "MetricsConfig",
    "MotionConfig",
    "OutputConfig",
    "PrivacyConfig",
    "RayConfig",
    "ReconnectConfig",
    "RecordingConfig",
    "RecordingMode",
    "RecordingStorageConfig",
    "RetentionConfig",
    "Role",
    "RuleFilter",
    "RulesConfig",
    "RuntimeConfig",
    "SchedulerConfig",
    "ServerConfig",
    "SourceConfig",
    "TamperConfig",
    "TimeWindow",
    "TlsConfig",
    "TokenConfig",
    "TrackerConfig",
    "ZoneRule",
    "format_validation_error",
    "load_config",
    "parse_config",
    "redact_url",
    "with_recording_directories",
]
