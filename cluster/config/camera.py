"""One camera: identity, source, analysis, event rules, privacy, health, recording and what it keeps for readers."""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cluster.support.text import control_characters, shown

from .analysis import AnalysisConfig
from .base import StrictModel, invalid_at
from .file_access import FILE_ROOTS, FileRoots, roots_from
from .health import HealthConfig
from .privacy import PrivacyConfig
from .recording import RecordingConfig
from .rules import RuleFilter, RulesConfig
from .source import SourceConfig

CAMERA_ID_PATTERN = r"[a-z0-9][a-z0-9_-]{0,62}"  # matched whole (re.fullmatch): '$' would let "cam\n" through
CAMERA_ID_RE = re.compile(CAMERA_ID_PATTERN)
DEFAULT_PRIORITY = 50
MAX_GROUPS = 32  # groups one camera belongs to
MAX_GROUP_LENGTH = 64
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
MOTION_CLASS = "motion"  # the class of motion regions, on cameras without a detector


class OutputConfig(StrictModel):
    """What the camera actor keeps for subscribers and for the event store."""

    ring_size: int = Field(1024, ge=16, le=100_000, description="Detection batches kept for resume.")
    jpeg_quality: int = Field(80, ge=10, le=100, description="Quality of the latest-frame JPEG.")
    event_ring_size: int = Field(
        1024,
        ge=16,
        le=100_000,
        description="Event revisions kept for the event store to pull (it resumes from the last one it stored).",
    )
    thumbnail_width: int = Field(320, ge=64, le=1920, description="Width of event thumbnails (JPEG, masked).")
    thumbnail_quality: int = Field(70, ge=10, le=100, description="JPEG quality of event thumbnails.")


class CameraConfig(StrictModel):
    """Desired state of one camera."""

    id: str = Field(..., description="Stable id: lowercase letters, digits, '-' or '_', at most 63 characters.")
    name: str = Field("", max_length=200, description="Human-readable name, e.g. 'Hẻm 12 Lê Lợi'.")
    groups: list[str] = Field(
        default_factory=list,
        max_length=MAX_GROUPS,
        description=f"Groups for access control, e.g. ['ward-3']; at most {MAX_GROUPS}, each 1-{MAX_GROUP_LENGTH} "
        "characters without control characters or surrounding spaces.",
    )
    enabled: bool = Field(True, description="Disabled cameras are kept in the config but not run.")
    priority: int = Field(
        DEFAULT_PRIORITY,
        ge=0,
        le=100,
        description="When capacity is short, higher priorities run first (placed first after a restart or a "
        "node loss) and may displace running cameras of lower priority; equal priorities never displace.",
    )
    source: SourceConfig = Field(..., description="Where the frames come from.")
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig, description="How frames are analysed.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="What is kept for readers.")
    timezone: str = Field(
        DEFAULT_TIMEZONE, max_length=64, description="IANA time zone of the camera's local time (rule time windows)."
    )
    rules: RulesConfig = Field(default_factory=RulesConfig, description="Zones and lines that make events.")
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig, description="Areas hidden from every frame.")
    health: HealthConfig = Field(default_factory=HealthConfig, description="Stream and tamper events.")
    recording: RecordingConfig = Field(
        default_factory=RecordingConfig, description="Stream-copy recording, retention and where segments go."
    )

    @field_validator("id")
    @classmethod
    def _id_format(cls, v: str) -> str:
        if not CAMERA_ID_RE.fullmatch(v):
            raise ValueError(
                f"camera id {shown(v)} must be 1-63 lowercase letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        return v

    @field_validator("groups")
    @classmethod
    def _group_names(cls, groups: list[str]) -> list[str]:
        for index, group in enumerate(groups):
            problem = group_name_problem(group)
            if problem:
                raise ValueError(f"groups[{index}] {shown(group)} {problem}")
        return list(dict.fromkeys(groups))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}: give an IANA name such as {DEFAULT_TIMEZONE!r}") from None
        return v

    @model_validator(mode="after")
    def _files_inside_the_roots(self, info: ValidationInfo) -> CameraConfig:
        # Defined before _rules_fit_the_analysis, so it runs first: that one reads the names file.
        roots = roots_from(info.context)
        if roots is None:
            return self
        for loc, path in _named_files(self):
            if not roots.contains(path):
                raise invalid_at(CameraConfig, loc, roots.refusal("a file named in a request"), str(path))
        return self

    @model_validator(mode="after")
    def _rules_fit_the_analysis(self) -> CameraConfig:
        if self.rules.empty:
            return self
        analysis = self.analysis
        if analysis.detector is None and not (analysis.motion.enabled and analysis.motion.report_regions):
            message = (
                "rules need detections: configure analysis.detector, or enable analysis.motion with report_regions"
            )
            raise invalid_at(CameraConfig, ("rules",), message, "rules")
        if not analysis.tracker.enabled:
            message = "rules follow tracked objects: analysis.tracker.enabled must be true"
            raise invalid_at(CameraConfig, ("rules",), message, "rules")
        known = _known_classes(analysis)
        if known is None:
            return self  # the names file is not readable here; the camera checks at start
        classes, origin = known
        for loc, rule_filter in _rule_filters(self.rules):
            for index, name in enumerate(rule_filter.classes or ()):
                if name not in classes:
                    close = difflib.get_close_matches(name, sorted(classes), n=3)
                    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                    among = f"the {len(classes)} classes of" if len(classes) > 1 else "the one class of"
                    message = f"unknown class {name!r}: not among {among} {origin}{hint}"
                    raise invalid_at(CameraConfig, (*loc, "filters", "classes", index), message, name)
        return self


def group_name_problem(group: str) -> str | None:
    """Why `group` cannot name a camera group, or None when it can."""
    if not group or group != group.strip():
        return "must be non-empty without leading or trailing spaces"
    if len(group) > MAX_GROUP_LENGTH:
        return f"is longer than {MAX_GROUP_LENGTH} characters"
    if control_characters(group):
        return f"contains control characters ({', '.join(control_characters(group))})"
    return None


def _named_files(camera: CameraConfig) -> Iterator[tuple[tuple[str, ...], Path]]:
    """Every server file the camera would read, with where it is named."""
    if camera.source.is_file:
        yield ("source", "url"), camera.source.file_path
    detector = camera.analysis.detector
    if detector is not None:
        yield ("analysis", "detector", "model"), detector.model
        yield ("analysis", "detector", "weights"), detector.weights or detector.model.with_suffix(".weights")
        yield ("analysis", "detector", "names"), detector.names_path


def hide_server_paths(camera: CameraConfig, text: str) -> str:
    """`text` (a state's reason, an error) with each server path the camera names cut
    to its file name: viewers learn which clip failed, not the server's directories."""
    for _, path in _named_files(camera):
        forms = {str(path), str(path.expanduser().resolve())} - {path.name}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, path.name)
    return text


def viewer_spec_paths(camera: CameraConfig) -> dict[tuple[str, ...], str]:
    """Each server path the camera names, as a viewer sees it (its file name), by location."""
    return {loc: path.name for loc, path in _named_files(camera)}


def confined(roots: FileRoots) -> dict[str, FileRoots]:
    """The validation context that confines a request's files to `roots`."""
    return {FILE_ROOTS: roots}


def _known_classes(analysis: AnalysisConfig) -> tuple[set[str], str] | None:
    """The class names detections of this analysis can carry, and where they come from;
    None when that cannot be known here (a names file on another machine)."""
    detector = analysis.detector
    if detector is None:
        return {MOTION_CLASS}, "a camera without a detector ('motion', its moving regions)"
    if detector.classes is not None:
        return set(detector.classes), "the detector (analysis.detector.classes)"
    try:
        return set(detector.class_names()), f"the detector's names file {detector.names_path}"
    except (OSError, ValueError):
        return None


def _rule_filters(rules: RulesConfig) -> Iterator[tuple[tuple[str, str, int], RuleFilter]]:
    for index, zone in enumerate(rules.zones):
        yield ("rules", "zones", index), zone.filters
    for index, line in enumerate(rules.lines):
        yield ("rules", "lines", index), line.filters
