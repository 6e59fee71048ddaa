"""What a caller can ask the event store, validated, and the SQL it becomes.

`EventFilter` is shared by queries, counts and the change feed. A field left None
does not filter; an empty set matches nothing (a viewer whose scope holds no
camera sees no event). The time range is half-open on the event's start time:
`time_from <= start_time < time_to`. `min_dwell_s` keeps only events with a dwell
of at least that (events without a dwell do not match). Every problem raises
`InvalidQuery` naming the argument.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, TypeVar

from cluster.domain.events import Direction, Event, EventType, Severity

from .errors import InvalidQuery

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
MAX_FILTER_VALUES = 10_000  # ids in one filter (a camera group is far smaller)
MAX_NAME_LENGTH = 256
DEFAULT_MAX_GROUPS = 10_000

E = TypeVar("E", bound=enum.Enum)


class Order(str, enum.Enum):
    NEWEST_FIRST = "newest_first"  # start time descending (ties: stored later first)
    OLDEST_FIRST = "oldest_first"


class GroupBy(str, enum.Enum):
    CAMERA = "camera"
    RULE = "rule"
    CLASS = "class"
    DIRECTION = "direction"
    TYPE = "type"
    SEVERITY = "severity"


class Bucket(str, enum.Enum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        return {"minute": 60, "hour": 3600, "day": 86400}[self.value]


GROUP_COLUMNS: dict[GroupBy, str] = {
    GroupBy.CAMERA: "camera_id",
    GroupBy.RULE: "rule",
    GroupBy.CLASS: "class_name",
    GroupBy.DIRECTION: "direction",
    GroupBy.TYPE: "type",
    GroupBy.SEVERITY: "severity",
}


@dataclass(frozen=True, slots=True)
class EventFilter:
    # Sets of any kind (and, for types and severities, their string values) are taken;
    # each is kept as a frozenset.
    cameras: AbstractSet[str] | None = None
    types: AbstractSet[EventType] | None = None
    severities: AbstractSet[Severity] | None = None
    classes: AbstractSet[str] | None = None
    rules: AbstractSet[str] | None = None
    time_from: float | None = None
    time_to: float | None = None
    min_dwell_s: float | None = None
    job_ids: AbstractSet[str] | None = None  # events of these batch jobs only
    live_only: bool = False  # events of live cameras only (no batch job)

    def __post_init__(self) -> None:
        for name in ("cameras", "classes", "rules", "job_ids"):
            _set_field(self, name, _names(getattr(self, name), name))
        _set_field(self, "types", _enums(self.types, EventType, "types"))
        _set_field(self, "severities", _enums(self.severities, Severity, "severities"))
        for name in ("time_from", "time_to", "min_dwell_s"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise InvalidQuery(name, f"expected a finite number of seconds, got {value!r}")
                _set_field(self, name, float(value))
        if self.time_from is not None and self.time_to is not None and self.time_to <= self.time_from:
            raise InvalidQuery(
                "time_to",
                f"the range is empty or backwards: time_to ({self.time_to}) must be after time_from ({self.time_from})",
            )
        if self.min_dwell_s is not None and self.min_dwell_s < 0:
            raise InvalidQuery("min_dwell_s", f"must be >= 0, got {self.min_dwell_s}")
        if not isinstance(self.live_only, bool):
            raise InvalidQuery("live_only", f"expected true or false, got {self.live_only!r}")
        if self.live_only and self.job_ids is not None:
            raise InvalidQuery("live_only", "cannot be combined with job_ids (live events have no job)")

    def matches(self, event: Event) -> bool:
        """The same test as the SQL, in Python (for events not read from the store)."""

        def within(value: Any, allowed: AbstractSet | None) -> bool:
            return allowed is None or value in allowed

        return (
            within(event.camera_id, self.cameras)
            and within(event.type, self.types)
            and within(event.severity, self.severities)
            and within(event.class_name, self.classes)
            and within(event.rule, self.rules)
            and within(event.job_id, self.job_ids)
            and (self.time_from is None or event.start_time >= self.time_from)
            and (self.time_to is None or event.start_time < self.time_to)
            and (self.min_dwell_s is None or (event.dwell_s is not None and event.dwell_s >= self.min_dwell_s))
            and (not self.live_only or event.job_id is None)
        )

    def canonical(self) -> dict[str, Any]:
        """A JSON-able form in which equal filters are equal (cursors are bound to it)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            name, value = f.name, getattr(self, f.name)
            if isinstance(value, AbstractSet):
                value = sorted(v.value if isinstance(v, enum.Enum) else v for v in value)
            out[name] = value
        return out

    def fingerprint(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def sql(self, alias: str = "") -> tuple[list[str], list[Any]]:
        """WHERE terms (to be joined with AND) and their parameters."""
        p = f"{alias}." if alias else ""
        terms: list[str] = []
        params: list[Any] = []

        def one_of(column: str, values: AbstractSet | None) -> None:
            if values is None:
                return
            if not values:
                terms.append("0")  # an empty set matches nothing
                return
            ordered = sorted(v.value if isinstance(v, enum.Enum) else v for v in values)
            if len(ordered) == 1:
                terms.append(f"{p}{column} = ?")
            else:
                terms.append(f"{p}{column} IN ({', '.join('?' * len(ordered))})")
            params.extend(ordered)

        one_of("camera_id", self.cameras)
        one_of("type", self.types)
        one_of("severity", self.severities)
        one_of("class_name", self.classes)
        one_of("rule", self.rules)
        one_of("job_id", self.job_ids)
        if self.live_only:
            terms.append(f"{p}job_id IS NULL")
        if self.time_from is not None:
            terms.append(f"{p}start_time >= ?")
            params.append(self.time_from)
        if self.time_to is not None:
            terms.append(f"{p}start_time < ?")
            params.append(self.time_to)
        if self.min_dwell_s is not None:
            terms.append(f"{p}dwell_s >= ?")
            params.append(self.min_dwell_s)
        return terms, params


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of a query. `cursor` resumes after its last event (None when the page
    is empty and no cursor was given); `has_more` says whether more matched when it
    was read (in oldest-first order, later events may still come: ask again)."""

    events: tuple[Event, ...]
    cursor: str | None
    has_more: bool


@dataclass(frozen=True, slots=True)
class Change:
    """An event as of its latest insert or update; `change_seq` orders the changes."""

    change_seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class ChangePage:
    """Changes after a position, oldest first. `position` is where the next call
    resumes: past every change returned and every change the filter skipped."""

    changes: tuple[Change, ...]
    position: int


@dataclass(frozen=True, slots=True)
class CountRow:
    """One group of a count. A key field is None when the count is not grouped by it
    (or when the events have none: health events have no class or direction)."""

    count: int
    bucket_start: float | None = None  # UTC epoch seconds at which the local bucket starts
    camera_id: str | None = None
    rule: str | None = None
    class_name: str | None = None
    direction: Direction | None = None
    type: EventType | None = None
    severity: Severity | None = None


def checked_order(order: Order | str) -> Order:
    return _enum(order, Order, "order")


def checked_page_size(page_size: int, field: str = "page_size") -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidQuery(field, f"must be an integer from 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
    return page_size


def checked_group_by(group_by: Iterable[GroupBy | str]) -> tuple[GroupBy, ...]:
    if isinstance(group_by, (str, GroupBy)):
        group_by = [group_by]
    keys = tuple(_enum(g, GroupBy, "group_by") for g in group_by)
    if len(set(keys)) != len(keys):
        raise InvalidQuery("group_by", f"a key is repeated: {[k.value for k in keys]}")
    return keys


def checked_bucket(bucket: Bucket | str | None) -> Bucket | None:
    return None if bucket is None else _enum(bucket, Bucket, "bucket")


def _enum(value: Any, enum_type: type[E], field: str) -> E:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise InvalidQuery(field, f"{value!r} is not one of: {allowed}") from None


def _enums(values: Iterable | None, enum_type: type[E], field: str) -> frozenset[E] | None:
    if values is None:
        return None
    if isinstance(values, (str, enum.Enum)):
        values = [values]
    return frozenset(_enum(v, enum_type, field) for v in values)


def _names(values: Iterable[str] | None, field: str) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise InvalidQuery(field, f"expected a set of names, got the string {values!r}")
    names = frozenset(values)
    if len(names) > MAX_FILTER_VALUES:
        raise InvalidQuery(field, f"at most {MAX_FILTER_VALUES} values, got {len(names)}")
    for name in names:
        if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidQuery(
                field, f"names are non-empty strings of at most {MAX_NAME_LENGTH} characters, got {name!r}"
            )
    return names


def _set_field(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


ALL_EVENTS = EventFilter()  # no filter: every event
