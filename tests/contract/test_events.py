"""Events messages <-> the event store's types: every enum value has its twin, and an
event survives the round trip with every field."""

from __future__ import annotations

import dataclasses

import pytest

from cluster.contract import RequestError
from cluster.contract import events as conv
from cluster.domain import Box, Direction, EventType, Severity
from cluster.events import Bucket, CountRow, GroupBy, Order
from cluster.proto.matthan.v1 import events_pb2
from tests.events.factory import JPEG, T0, event


@pytest.mark.parametrize(
    ("domain", "wire", "mapping", "unused"),
    [
        (EventType, events_pb2.EventType, conv.EVENT_TYPES, {"EVENT_TYPE_UNSPECIFIED"}),
        (Severity, events_pb2.Severity, conv.SEVERITIES, {"SEVERITY_UNSPECIFIED"}),
        (Direction, events_pb2.Direction, conv.DIRECTIONS, {"DIRECTION_UNSPECIFIED"}),
        (Order, events_pb2.EventOrder, conv.ORDERS, set()),
        (GroupBy, events_pb2.CountKey, conv.GROUP_KEYS, {"COUNT_KEY_UNSPECIFIED"}),
        (Bucket, events_pb2.TimeBucket, conv.BUCKETS, {"TIME_BUCKET_NONE"}),
    ],
)
def test_every_enum_value_has_its_twin_both_ways(domain, wire, mapping, unused) -> None:
    assert set(mapping) == set(domain), f"every {domain.__name__} maps to the wire"
    mapped = {wire.Name(n) for n in mapping.values()}
    assert mapped | unused == set(wire.keys()), f"every {wire.DESCRIPTOR.name} value but {unused} maps back"
    assert len(set(mapping.values())) == len(mapping), "no two members share a number"


def test_an_event_round_trips_with_every_field() -> None:
    original = event(
        3,
        type="line_crossing",
        direction="b_to_a",
        dwell_s=4.5,
        count=2,
        end_time=T0 + 99.25,
        end_pts=9.5,
        job="job-7",
        thumbnail=JPEG,
        peak_box=Box(0.1, 0.2, 0.3, 0.4),
        revision=4,
    )
    back = conv.event_from_proto(conv.event_to_proto(original, with_thumbnail=True))
    # Timestamps carry nanoseconds and boxes float32: those compare within their precision.
    assert back.end_time == pytest.approx(original.end_time, abs=1e-6), "end time"
    assert back.peak_box is not None
    assert tuple(vars_of(back.peak_box)) == pytest.approx(tuple(vars_of(original.peak_box)), abs=1e-6), "box"
    exact = dataclasses.replace(back, end_time=original.end_time, peak_box=original.peak_box)
    assert exact == original, "every other field survives exactly"
    assert conv.event_from_proto(conv.event_to_proto(original)).thumbnail is None, "no thumbnail unless asked"


def vars_of(box: Box) -> tuple[float, ...]:
    return (box.x, box.y, box.w, box.h)


def test_an_event_without_optional_fields_round_trips() -> None:
    original = event(1, type="stream_lost", class_name=None, track=None, peak_confidence=None, peak_box=None)
    assert conv.event_from_proto(conv.event_to_proto(original)) == original


def test_a_count_row_round_trips() -> None:
    row = CountRow(count=5, bucket_start=T0, camera_id="cam-1", class_name="car", direction=Direction.A_TO_B)
    assert conv.count_row_from_proto(conv.count_row_to_proto(row)) == row


def test_a_filter_error_names_the_request_field() -> None:
    msg = events_pb2.EventFilter(min_dwell_s=-2)
    with pytest.raises(RequestError, match=r"^filter\.min_dwell_s"):
        conv.filter_from_proto(msg, None)


def test_unknown_enum_numbers_are_refused_naming_the_field() -> None:
    with pytest.raises(RequestError, match=r"^filter\.types\[1\]"):
        conv.filter_from_proto(events_pb2.EventFilter(types=[1, 77]), None)
    with pytest.raises(RequestError, match="group_by"):
        conv.group_by_from_proto([1, 1])
