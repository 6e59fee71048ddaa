"""Which detections a rule looks at, and when it may start events."""

from __future__ import annotations

import datetime
import zoneinfo

from cluster.config.rules import RuleFilter, TimeWindow
from cluster.domain import Detection

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DetectionFilter:
    """A rule's filter: classes, confidence and box area per detection; time-of-day
    windows (in the camera's time zone) for the start of events."""

    def __init__(self, config: RuleFilter, timezone: zoneinfo.ZoneInfo) -> None:
        self.config = config
        self.classes = frozenset(config.classes) if config.classes is not None else None
        self.timezone = timezone

    def accepts(self, detection: Detection) -> bool:
        config = self.config
        if self.classes is not None and detection.class_name not in self.classes:
            return False
        if detection.confidence < config.min_confidence:
            return False
        area = detection.box.w * detection.box.h
        return config.min_area <= area <= config.max_area

    @property
    def single_class(self) -> str | None:
        """The one class the rule counts, if it counts exactly one (occupancy events carry it)."""
        return next(iter(self.classes)) if self.classes is not None and len(self.classes) == 1 else None

    def open_at(self, wall_time: float) -> bool:
        """Whether the rule may start an event at epoch `wall_time` (always without windows)."""
        windows = self.config.windows
        if not windows:
            return True
        local = datetime.datetime.fromtimestamp(wall_time, self.timezone)
        return any(_in_window(window, local) for window in windows)


def _in_window(window: TimeWindow, local: datetime.datetime) -> bool:
    now = local.time().replace(tzinfo=None)
    today = _DAYS[local.weekday()]
    yesterday = _DAYS[(local.weekday() - 1) % 7]
    days = window.days
    if window.start < window.end:
        return window.start <= now < window.end and (not days or today in days)
    # Over midnight: the evening part belongs to today's window, the morning part to yesterday's.
    if now >= window.start:
        return not days or today in days
    return now < window.end and (not days or yesterday in days)
