"""The wall-clock time each file's footage began, from one of three sources.

In order of precedence:

1. `--start` (an explicit time): the first file starts then; each further file
   starts where the previous one's footage ends (files given in recording order);
2. the file's name, by `batch.filename_time_pattern` (a regular expression with a
   group `time`) and `batch.filename_time_format` (strptime), read in the camera's
   time zone unless the format carries an offset (`%z`);
3. the container's `creation_time` tag (UTC).

A file none of them dates is an error naming it: events need real times.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .media import MediaIndex


class TimeSource(str, enum.Enum):
    EXPLICIT = "explicit"  # --start / start_time of the request
    FILENAME = "filename"
    CREATION_TIME = "creation_time"
    RECORDING = "recording"  # a recorded segment: its exact start on the camera's recording chain


class UndatedFile(ValueError):
    """No start time for a file: not given, not in its name, not in its metadata."""


@dataclass(frozen=True, slots=True)
class FootageStart:
    epoch_s: float
    source: TimeSource


def parse_time(text: str, time_zone: str) -> float:
    """An ISO 8601 time ('2026-11-28T22:00:00', '2026-11-28 22:00+07:00') as epoch
    seconds; without an offset it is local time in `time_zone`. ValueError names it."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"start time {text!r} is not an ISO 8601 time such as 2026-11-28T22:00:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    return moment.timestamp()


def time_from_filename(name: str, pattern: str, time_format: str, time_zone: str) -> float | None:
    """The start time the file name `name` carries, or None if the pattern does not match it."""
    match = re.search(pattern, name)
    if match is None:
        return None
    try:
        moment = datetime.datetime.strptime(match.group("time"), time_format)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    return moment.timestamp()


def footage_starts(
    indexes: Sequence[MediaIndex],
    *,
    explicit: float | None,
    pattern: str,
    time_format: str,
    time_zone: str,
) -> tuple[FootageStart, ...]:
    """The start of every file (see the module for the precedence). Raises UndatedFile."""
    starts: list[FootageStart] = []
    for number, index in enumerate(indexes):
        if explicit is not None:
            if number == 0:
                starts.append(FootageStart(explicit, TimeSource.EXPLICIT))
            else:
                previous = starts[-1].epoch_s + indexes[number - 1].duration_s
                starts.append(FootageStart(previous, TimeSource.EXPLICIT))
            continue
        from_name = time_from_filename(index.path.name, pattern, time_format, time_zone)
        if from_name is not None:
            starts.append(FootageStart(from_name, TimeSource.FILENAME))
        elif index.creation_time is not None:
            starts.append(FootageStart(index.creation_time, TimeSource.CREATION_TIME))
        else:
            raise UndatedFile(
                f"{index.path}: no start time: its name does not match {pattern!r} and it has no "
                "creation_time; give the start time (--start)"
            )
    return tuple(starts)
