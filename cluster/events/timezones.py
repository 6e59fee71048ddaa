"""Time zones for count buckets: parse a zone, and find its UTC offsets over a time range.

Counts are grouped by local wall-clock minute, hour or day. SQLite knows no time
zones, so the store turns the zone into a piecewise-constant UTC offset over the
queried range (`offset_segments`) and writes it into the SQL as a CASE over
`start_time`; the bucket is then `floor((start_time + offset) / width)`, a local
wall-clock bucket. Where clocks go back, the repeated local hour is one bucket
holding both hours; where they go forward, the skipped hour has no bucket.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from .errors import InvalidQuery

_OFFSET = re.compile(r"(?:UTC)?([+-])(\d{2}):?(\d{2})")  # matched whole
# Offsets are sampled this far apart, then transitions found by bisection. Zones
# change offset at most a few times a year, never twice within this step.
SAMPLE_STEP_S = 6 * 3600.0
MAX_SPAN_S = 50 * 366 * 86400.0  # a range longer than this is refused (it cannot be a useful count)


@dataclass(frozen=True, slots=True)
class OffsetSegment:
    """From `start` (inclusive) to the next segment's start, local time = UTC + `offset_s`."""

    start: float
    offset_s: int


def parse_time_zone(text: str, field: str = "time_zone") -> dt.tzinfo:
    """'UTC', a fixed offset ('+07:00', '-0330', 'UTC+07:00') or an IANA name ('Asia/Ho_Chi_Minh')."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidQuery(field, f"expected a time zone name or an offset like +07:00, got {text!r}")
    text = text.strip()
    if text.upper() in ("UTC", "Z"):
        return dt.timezone.utc
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes = match.groups()
        if int(hours) > 18 or int(minutes) > 59:
            raise InvalidQuery(field, f"offset {text!r} is out of range (-18:00..+18:00)")
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        return dt.timezone(-delta if sign == "-" else delta)
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidQuery(
            field, f"unknown time zone {text!r} (use an IANA name such as Asia/Ho_Chi_Minh, or an offset like +07:00)"
        ) from None


def offset_at(zone: dt.tzinfo, t: float) -> int:
    offset = dt.datetime.fromtimestamp(t, dt.timezone.utc).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_segments(zone: dt.tzinfo, t_from: float, t_to: float) -> list[OffsetSegment]:
    """The zone's offsets over [t_from, t_to]: the first segment starts at t_from."""
    if isinstance(zone, dt.timezone):
        return [OffsetSegment(t_from, offset_at(zone, t_from))]
    if t_to - t_from > MAX_SPAN_S:
        raise InvalidQuery("time_to", f"a count over more than {MAX_SPAN_S / 86400 / 366:.0f} years is refused")
    segments = [OffsetSegment(t_from, offset_at(zone, t_from))]
    t = t_from
    while t < t_to:
        nxt = min(t + SAMPLE_STEP_S, t_to)
        current = segments[-1].offset_s
        offset = offset_at(zone, nxt)
        if offset != current:
            lo, hi = t, nxt  # offset(lo) == current != offset(hi)
            while hi - lo > 1.0:
                mid = (lo + hi) / 2.0
                if offset_at(zone, mid) == current:
                    lo = mid
                else:
                    hi = mid
            segments.append(OffsetSegment(float(int(hi)), offset))
        t = nxt
    return segments


def bucket_start_utc(zone: dt.tzinfo, local_start: float) -> float:
    """The UTC instant at which a local wall-clock bucket begins (`local_start` is the
    local time expressed as if it were UTC). In a repeated hour, the first occurrence."""
    naive = dt.datetime.fromtimestamp(local_start, dt.timezone.utc).replace(tzinfo=None)
    return naive.replace(tzinfo=zone, fold=0).timestamp()
