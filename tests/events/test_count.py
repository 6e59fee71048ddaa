"""CountEvents: counts grouped by keys and by local time buckets in a time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from cluster.domain import Direction, EventType
from cluster.events import CountRow, EventFilter, InvalidQuery

from .factory import event


def utc(*args) -> float:
    return dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp()


def at(n: int, when: float, **fields):
    return event(n, start=when, **fields)


def buckets(rows) -> dict[float, int]:
    return {r.bucket_start: r.count for r in rows}


def test_crossings_per_hour_by_class_and_direction(store):
    """ "How many motorbikes crossed onto the ramp per hour": the issue's example."""
    crossings = [
        ("motorbike", "a_to_b", utc(2026, 9, 21, 8, 5)),
        ("motorbike", "a_to_b", utc(2026, 9, 21, 8, 50)),
        ("motorbike", "b_to_a", utc(2026, 9, 21, 8, 20)),
        ("car", "a_to_b", utc(2026, 9, 21, 8, 30)),
        ("motorbike", "a_to_b", utc(2026, 9, 21, 9, 1)),
    ]
    store.write(
        [
            at(n, when, type="line_crossing", rule="ramp", class_name=c, direction=d)
            for n, (c, d, when) in enumerate(crossings)
        ]
    )
    rows = store.count(
        EventFilter(rules={"ramp"}, types={"line_crossing"}), group_by=["class", "direction"], bucket="hour"
    )
    assert rows == (
        CountRow(1, utc(2026, 9, 21, 8), class_name="car", direction=Direction.A_TO_B),
        CountRow(2, utc(2026, 9, 21, 8), class_name="motorbike", direction=Direction.A_TO_B),
        CountRow(1, utc(2026, 9, 21, 8), class_name="motorbike", direction=Direction.B_TO_A),
        CountRow(1, utc(2026, 9, 21, 9), class_name="motorbike", direction=Direction.A_TO_B),
    ), "ordered by bucket, then keys"


def test_days_are_local_days_of_the_zone(store):
    late_evening = utc(2026, 9, 21, 16, 30)  # 23:30 in Hồ Chí Minh City (UTC+7)
    after_midnight = utc(2026, 9, 21, 17, 10)  # 00:10 the next day there
    store.write([at(0, late_evening), at(1, after_midnight)])
    assert buckets(store.count(bucket="day")) == {utc(2026, 9, 21): 2}, "one UTC day"
    for zone in ("Asia/Ho_Chi_Minh", "+07:00", "UTC+0700"):
        assert buckets(store.count(bucket="day", time_zone=zone)) == {
            utc(2026, 9, 20, 17): 1,
            utc(2026, 9, 21, 17): 1,
        }, f"two local days in {zone}, each from local midnight"


def test_hours_follow_a_half_hour_offset(store):
    store.write([at(0, utc(2026, 9, 21, 16, 10)), at(1, utc(2026, 9, 21, 16, 40))])  # 21:40 and 22:10 in India
    assert buckets(store.count(bucket="hour", time_zone="Asia/Kolkata")) == {
        utc(2026, 9, 21, 15, 30): 1,
        utc(2026, 9, 21, 16, 30): 1,
    }


def test_a_day_with_a_clock_change_is_one_local_day(store):
    # Berlin leaves summer time on 2026-10-25 at 03:00 local (01:00 UTC): that day has 25 hours.
    events = [
        at(0, utc(2026, 10, 24, 22, 30)),  # 00:30 CEST, Oct 25
        at(1, utc(2026, 10, 25, 22, 30)),  # 23:30 CET, Oct 25
        at(2, utc(2026, 10, 25, 23, 30)),
    ]  # 00:30 CET, Oct 26
    store.write(events)
    expected = {utc(2026, 10, 24, 22): 2, utc(2026, 10, 25, 23): 1}
    assert buckets(store.count(bucket="day", time_zone="Europe/Berlin")) == expected
    in_range = EventFilter(time_from=utc(2026, 10, 20), time_to=utc(2026, 10, 30))
    assert buckets(store.count(in_range, bucket="day", time_zone="Europe/Berlin")) == expected, (
        "the same with a time range given"
    )


def test_the_repeated_hour_of_a_clock_change_is_one_bucket(store):
    # 02:00-03:00 happens twice in Berlin on 2026-10-25: at 00:00 and at 01:00 UTC.
    store.write([at(0, utc(2026, 10, 25, 0, 15)), at(1, utc(2026, 10, 25, 1, 15)), at(2, utc(2026, 10, 25, 2, 15))])
    assert buckets(store.count(bucket="hour", time_zone="Europe/Berlin")) == {
        utc(2026, 10, 25, 0): 2,
        utc(2026, 10, 25, 2): 1,
    }, "local 02:00 holds both of its hours"


def test_counts_use_the_filter(store):
    store.write(
        [
            at(0, utc(2026, 9, 21, 8), camera="cam-1"),
            at(1, utc(2026, 9, 21, 8), camera="cam-2"),
            at(2, utc(2026, 9, 21, 8), camera="cam-2", type="tamper_black", class_name=None, track=None),
        ]
    )
    assert store.count(EventFilter(cameras={"cam-2"}), group_by=["type"]) == (
        CountRow(1, type=EventType.TAMPER_BLACK),
        CountRow(1, type=EventType.ZONE_ENTER),
    )
    assert store.count() == (CountRow(3),), "no grouping: one total"
    assert store.count(EventFilter(cameras=set())) == (CountRow(0),)


def test_health_events_have_no_class_in_a_count(store):
    store.write([at(0, utc(2026, 9, 21, 8), type="tamper_black", class_name=None, track=None)])
    assert store.count(group_by="class") == (CountRow(1, class_name=None),)


def test_too_many_groups_are_refused(store):
    store.write([at(n, utc(2026, 9, 21, 8) + 60 * n) for n in range(5)])
    with pytest.raises(InvalidQuery, match="group_by: more than 3 groups"):
        store.count(bucket="minute", max_groups=3)
    assert len(store.count(bucket="minute", max_groups=5)) == 5


@pytest.mark.parametrize(
    "arguments, field",
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "+25:00"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"bucket": "fortnight"}, "bucket"),
        ({"group_by": ["camera", "planet"]}, "group_by"),
        ({"group_by": ["camera", "camera"]}, "group_by"),
        ({"max_groups": 0}, "max_groups"),
    ],
)
def test_bad_count_arguments_are_refused_naming_them(store, arguments, field):
    with pytest.raises(InvalidQuery) as raised:
        store.count(**arguments)
    assert raised.value.field == field, str(raised.value)
